// `ts-node bench/probe.ts`: loads a small data set, starts the stack like the bench and times single requests of parts
// of the board query, one subgraph hop at a time, to find where the time goes. A tool for tuning, not a scenario.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { issueToken } from '../gateway/tokens';
import { loadConfig } from '../lib/config';
import { migrateHub, openHubDatabases } from '../app/hub-databases';
import { benchScale, loadProvince } from './data';
import { startStack } from './stack';

const PARTS: Record<string, string> = {
  ids: 'id',
  rooms: 'room { name venue { name platform { name } } }',
  projects: 'project { code status }',
  draws: 'project { expertDraw { status } }',
  all: 'id room { name venue { name platform { name } } } project { code status expertDraw { status } }',
};

async function main(): Promise<void> {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `hub_probe_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const env = {
    ...process.env,
    HUB_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: url.toString(),
    HUB_QUEUE_PREFIX: `{${name}}`,
    HUB_JWT_SECRET: randomBytes(32).toString('hex'),
    HUB_INTERNAL_SECRET: randomBytes(32).toString('hex'),
    WEBHOOK_SECRET: randomBytes(32).toString('hex'),
  };
  const config = loadConfig(env);
  const databases = openHubDatabases(config);
  try {
    await migrateHub(databases);
    const loaded = await loadProvince(
      { venues: databases.venues.db, experts: databases.experts.db, projects: databases.projects.db },
      benchScale(process.env.SEED_SCALE ?? 'small'),
      0,
    );
    const stack = await startStack(env);
    try {
      const token = await issueToken(config, { sub: 'probe', role: 'PROVINCIAL_ADMIN', platform: '410000' }, '1h');
      for (const [part, selection] of Object.entries(PARTS)) {
        const body = JSON.stringify({
          query: `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { ${selection} } }`,
          variables: loaded.busiestDay,
        });
        const times: number[] = [];
        for (let i = 0; i < 20; i++) {
          const started = performance.now();
          const response = await fetch(`http://127.0.0.1:${stack.ports.gateway}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
            body,
          });
          const text = await response.text();
          times.push(performance.now() - started);
          if (i === 0 && text.includes('"errors"')) process.stdout.write(`${part}: ${text.slice(0, 300)}\n`);
        }
        times.sort((a, b) => a - b);
        process.stdout.write(`${part}: median ${times[10].toFixed(1)} ms, min ${times[0].toFixed(1)} ms\n`);
      }
    } finally {
      await stack.stop();
    }
  } finally {
    await databases.close();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}

void main();
