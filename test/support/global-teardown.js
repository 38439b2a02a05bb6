// Drops every database of this run and deletes its queue keys.
const { Client } = require('pg');
const IORedis = require('ioredis');

module.exports = async function globalTeardown() {
  const run = process.env.HUB_TEST_RUN;
  if (!run) return;
  const admin = new Client({ connectionString: process.env.HUB_TEST_ADMIN_DATABASE_URL });
  await admin.connect();
  const { rows } = await admin.query('select datname from pg_database where datname like $1', [`${run}%`]);
  for (const { datname } of rows) await admin.query(`drop database if exists ${datname} with (force)`);
  await admin.end();
  const redis = new IORedis(process.env.REDIS_URL);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `{${run}*`, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
};
