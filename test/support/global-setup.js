// Creates this run's template database (migrated and seeded once); each test file copies it into a database of its own.
// global-teardown drops every database and queue key of the run.
const { randomBytes } = require('node:crypto');
const { Client } = require('pg');

module.exports = async function globalSetup() {
  require('ts-node').register({ transpileOnly: true });
  const adminUrl = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const run = `hub_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const template = `${run}_template`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${template}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${template}`;

  process.env.HUB_TEST_ADMIN_DATABASE_URL = adminUrl;
  process.env.HUB_TEST_RUN = run;
  process.env.HUB_TEST_TEMPLATE = template;
  process.env.REDIS_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  process.env.HUB_ENV = 'test';
  process.env.LOG_LEVEL = process.env.LOG_LEVEL || 'silent';
  process.env.APOLLO_TELEMETRY_DISABLED = '1';

  const { loadConfig } = require('../../lib/config');
  const { openHubDatabases, migrateHub } = require('../../app/hub-databases');
  const { seedDemoData } = require('../../app/seed');
  const databases = openHubDatabases(loadConfig({ ...process.env, DATABASE_URL: url.toString() }));
  try {
    await migrateHub(databases);
    await seedDemoData({ venues: databases.venues.db, experts: databases.experts.db, projects: databases.projects.db });
  } finally {
    await databases.close();
  }
};
