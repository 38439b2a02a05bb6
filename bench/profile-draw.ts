// Where a draw's time goes as the pool grows (issue 19, item 4): a fresh database of its own, the pool grown to each
// size, draws as the growth scenario runs them, and every statement's duration by kind. Run with
// `npx ts-node --transpile-only bench/profile-draw.ts` (PROFILE_DRAW_POOLS=30000,300000 to choose the sizes,
// PROFILE_DRAW_EXPLAIN=1 to print the plan of the last draw's eligibility statement at each size). The pool has no
// seat history here, unlike the growth scenario's; the draws' shape is the same.
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { systemClock } from '../lib/clock';
import { migrateDomain } from '../lib/db';
import { DOMAIN_MIGRATIONS } from '../app/migrations';
import { ExpertsService } from '../subgraphs/experts/service';
import { DEFAULT_DRAW_POLICY } from '../subgraphs/experts/core';
import type { ExpertsDatabase } from '../subgraphs/experts/types';
import { drawFor } from './draw';
import { growPool } from './growth';
import { median } from './load';

const POOLS = (process.env.PROFILE_DRAW_POOLS ?? '30000,100000,300000').split(',').map(Number);
const DRAWS = Number(process.env.PROFILE_DRAW_COUNT ?? 15);
const BASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function main(): Promise<void> {
  const name = `drawprof_${process.pid}`;
  const admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(BASE);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4, options: '-c search_path=experts,public' });
  const timings: { sql: string; ms: number; parameters: readonly unknown[] }[] = [];
  let recording = false;
  const db = new Kysely<ExpertsDatabase>({
    dialect: new PostgresDialect({ pool }),
    log: (event) => {
      if (recording)
        timings.push({ sql: event.query.sql, ms: event.queryDurationMillis, parameters: event.query.parameters });
    },
  }).withSchema('experts') as Kysely<ExpertsDatabase>;
  try {
    const migrations = DOMAIN_MIGRATIONS.find((entry) => entry.domain === 'experts')!.migrations;
    await migrateDomain(db as Kysely<unknown>, 'experts', migrations);
    const experts = new ExpertsService(db, systemClock, DEFAULT_DRAW_POLICY);
    let index = 50_000;
    for (const size of POOLS) {
      await growPool(db, size, console.log);
      const total: number[] = [];
      const byKind = new Map<string, number[]>();
      for (let n = 0; n < DRAWS + 2; n++) {
        const { request, facts } = drawFor(index++);
        timings.length = 0;
        recording = true;
        const at = performance.now();
        await experts.runDraw((await experts.requestDraw(request)).id, facts);
        const ms = performance.now() - at;
        recording = false;
        if (n < 2) continue;
        total.push(ms);
        const kinds = new Map<string, number>();
        for (const t of timings) kinds.set(kindOf(t.sql), (kinds.get(kindOf(t.sql)) ?? 0) + t.ms);
        kinds.set('node (not in a statement)', ms - timings.reduce((sum, t) => sum + t.ms, 0));
        for (const [kind, value] of kinds) byKind.set(kind, [...(byKind.get(kind) ?? []), value]);
      }
      console.log(`pool ${size}: draw p50 ${median(total).toFixed(1)} ms`);
      for (const [kind, values] of byKind) console.log(`  ${kind}: p50 ${median(values).toFixed(1)} ms`);
      if (process.env.PROFILE_DRAW_EXPLAIN) {
        const eligibility = timings.find((t) => kindOf(t.sql) === 'eligibility')!;
        const plan = await pool.query(
          `explain (analyze, buffers) ${eligibility.sql}`,
          eligibility.parameters as unknown[],
        );
        console.log(plan.rows.map((row) => row['QUERY PLAN']).join('\n'));
      }
    }
  } finally {
    await db.destroy();
    await admin.query(`drop database ${name} with (force)`);
    await admin.end();
  }
}

function kindOf(statement: string): string {
  if (statement.includes('string_agg')) return 'eligibility';
  if (statement.includes('insert into "experts"."draw_round"') || statement.includes('"recorded"'))
    return 'round + seats insert';
  if (statement.startsWith('insert into "experts"."draw"') || statement.includes('"requested"')) return 'request';
  if (statement.includes('"fixed"')) return 'lock + facts';
  if (statement.includes('draw_seat_rows')) return 'round state';
  if (statement.includes('outbox')) return 'outbox';
  return statement.slice(0, 50);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
