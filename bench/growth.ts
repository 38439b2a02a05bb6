// The growth scenario (issue 19, item 4): how cost grows with the work, three points per curve: the board over 1, 7
// and 31 days (latency, gateway RSS); a draw over 30,000, 100,000 and 300,000 experts; 500, 2,000 and 5,000
// arrangements at once; reconciliation of a day, a week and a month. Each curve is also drawn as an SVG chart.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { issueToken } from '../gateway/tokens';
import { systemClock } from '../lib/clock';
import { databaseUrl, hostRegionShare } from '../lib/config';
import { openDomainDatabase } from '../lib/db';
import { generateDemoData } from '../app/seed/generate';
import { ExpertsService } from '../subgraphs/experts/service';
import type { ExpertsDatabase } from '../subgraphs/experts/types';
import { renderChart, type Chart } from './chart';
import { YEAR_START } from './data';
import { drawFor, percentile, recordProjects } from './draw';
import { median } from './load';
import { SAGA_PROJECTS, settleArrangements } from './saga';
import type { ScenarioContext, ScenarioFigure, ScenarioReport } from './scenarios';
import { freePort, ROOT, startProcess, waitReady } from './stack';

const DAY_MS = 86_400_000;
const BOARD_DAYS = [1, 7, 31];
const POOLS = (process.env.BENCH_GROWTH_POOLS ?? '30000,100000,300000').split(',').map(Number);
const ARRANGEMENTS = [500, 2000, 5000];
/** Saga projects the growth curve needs beyond the saga scenario's 500 (run.ts loads them when growth is chosen). */
export const GROWTH_SAGA_PROJECTS = ARRANGEMENTS.reduce((sum, count) => sum + count, 0);
const RECONCILE_DAYS = [1, 7, 31];
const BOARD_REQUESTS = 7;
const DRAWS = 15;
const BOARD = `query Board($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id role seats startsAt endsAt status room { name venue { name platform { name } } } project { code status expertDraw { status } } } }`;
const RECONCILE =
  'mutation Reconcile($from: DateTime!, $to: DateTime!) { runReconciliation(from: $from, to: $to) { id status } }';
const REPORT =
  'query Report($id: ID!) { reconciliationReport(id: $id) { status failureReason discrepancies { kind } } }';

type Gql = { data?: Record<string, unknown>; errors?: { message: string }[] };
async function graphql(url: string, token: string, query: string, variables: Record<string, unknown>): Promise<Gql> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(30_000),
  });
  return (await response.json()) as Gql;
}

interface Curve {
  name: string;
  unit: string;
  points: { label: string; x: number; value: number; extra?: Record<string, number> }[];
}

/**
 * `days` of the data set around its busiest day: ending with it, so a month reaches back into the seeded year (the
 * busiest day can be near its end), or starting with it when the year starts too late for that.
 */
function rangeOf(busiestDay: ScenarioContext['busiestDay'], days: number): { from: string; to: string } {
  const end = new Date(busiestDay.to).getTime();
  const from = end - days * DAY_MS;
  if (from >= YEAR_START.getTime()) return { from: new Date(from).toISOString(), to: busiestDay.to };
  return { from: busiestDay.from, to: new Date(new Date(busiestDay.from).getTime() + days * DAY_MS).toISOString() };
}

export async function growthScenario(context: ScenarioContext): Promise<ScenarioReport> {
  const { config, stack, log, busiestDay } = context;
  const admin = await issueToken(config, { sub: 'bench-admin', role: 'PROVINCIAL_ADMIN', platform: '410000' }, '4h');
  const curves: Curve[] = [];
  const figures: ScenarioFigure[] = [];
  const started = performance.now();

  // ---- the board over 1, 7 and 31 days, through a gateway of its own with the cache off (every request a miss), so
  // its RSS is the board's alone.
  const port = await freePort();
  const gateway = startProcess(
    'gateway-growth',
    ['dist/gateway/main.js'],
    { ...stack.env, GATEWAY_PORT: String(port), METRICS_PORT: String(await freePort()), HUB_RESPONSE_CACHE_MB: '0' },
    port,
  );
  const url = `http://127.0.0.1:${port}/graphql`;
  try {
    await waitReady(`http://127.0.0.1:${port}/readyz`);
    const board: Curve = { name: 'Board query (cache off), p50', unit: 'ms', points: [] };
    const memory: Curve = { name: 'Gateway RSS, peak while the board is asked', unit: 'MiB', points: [] };
    let timeouts = 0;
    // A fresh process is slower for its first requests (JIT, plans, pools), whatever the range: warm it on the 1-day board.
    const firstDay = { from: busiestDay.from, to: busiestDay.to };
    for (let n = 0; n < 3; n++) await graphql(url, admin, BOARD, firstDay).catch(() => undefined);
    for (const days of BOARD_DAYS) {
      const variables = rangeOf(busiestDay, days);
      let peak = gateway.rss();
      const sampler = setInterval(() => (peak = Math.max(peak, gateway.rss())), 50);
      const times: number[] = [];
      let bookings = 0;
      try {
        for (let n = 0; n <= BOARD_REQUESTS; n++) {
          const at = performance.now();
          const body = await graphql(url, admin, BOARD, variables).catch(
            (error: unknown) => ({ errors: [{ message: String(error) }] }) as Gql,
          );
          if (body.errors) {
            timeouts++;
            log(`  growth: board over ${days} days failed: ${body.errors[0].message.slice(0, 300)}`);
            continue;
          }
          bookings = (body.data as { schedule: unknown[] }).schedule.length;
          // The first request of each range warms the gateway's plan cache; it is not counted.
          if (n > 0) times.push(performance.now() - at);
        }
      } finally {
        clearInterval(sampler);
      }
      peak = Math.max(peak, gateway.rss());
      board.points.push({
        label: `${days} d`,
        x: days,
        value: median(times),
        extra: { bookings, p99: percentile(times, 99) },
      });
      memory.points.push({ label: `${days} d`, x: days, value: peak / 1048576 });
      log(
        `  growth: board over ${days} days, ${bookings} bookings: p50 ${median(times).toFixed(0)} ms, gateway RSS peak ${(peak / 1048576).toFixed(0)} MiB`,
      );
    }
    curves.push(board, memory);
    const ratio = board.points[2].value / board.points[0].value;
    figures.push(
      {
        name: 'board latency, 31 days / 1 day',
        value: ratio,
        unit: '×',
        target: { value: 31, lowerIsBetter: true, inclusive: true },
      },
      {
        name: 'board, failed or timed-out (30 s) requests',
        value: timeouts,
        unit: 'requests',
        target: { value: 0, lowerIsBetter: true, inclusive: true },
      },
      {
        name: 'gateway RSS peak over the three ranges',
        value: Math.max(...memory.points.map((point) => point.value)),
        unit: 'MiB',
        target: { value: 512, lowerIsBetter: true },
      },
    );

    // ---- reconciliation of a day, a week and a month (the job, polled through the uncached gateway)
    const reconcile: Curve = { name: 'Reconciliation, request to DONE', unit: 's', points: [] };
    for (const days of RECONCILE_DAYS) {
      const variables = rangeOf(busiestDay, days);
      const at = performance.now();
      const requested = await graphql(url, admin, RECONCILE, variables);
      if (requested.errors) throw new Error(`runReconciliation over ${days} days: ${requested.errors[0].message}`);
      const id = (requested.data as { runReconciliation: { id: string } }).runReconciliation.id;
      let status = 'PENDING';
      let discrepancies = 0;
      while (!['DONE', 'FAILED'].includes(status) && performance.now() - at < 300_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const report = await graphql(url, admin, REPORT, { id });
        const value = (
          report.data as
            | { reconciliationReport: { status: string; failureReason: string | null; discrepancies: unknown[] } }
            | undefined
        )?.reconciliationReport;
        status = value?.status ?? status;
        discrepancies = value?.discrepancies.length ?? 0;
        if (status === 'FAILED') log(`  growth: reconciliation over ${days} days FAILED: ${value?.failureReason}`);
      }
      const seconds = (performance.now() - at) / 1000;
      reconcile.points.push({
        label: `${days} d`,
        x: days,
        value: seconds,
        extra: { discrepancies, done: status === 'DONE' ? 1 : 0 },
      });
      log(
        `  growth: reconciliation over ${days} days: ${status} in ${seconds.toFixed(2)} s, ${discrepancies} discrepancies`,
      );
    }
    curves.push(reconcile);
    figures.push({
      name: 'reconciliation, a month / a day',
      value: reconcile.points[2].value / reconcile.points[0].value,
      unit: '×',
    });
  } finally {
    await gateway.stop();
  }

  // ---- arrangements at once: 500, 2,000 and 5,000 saga projects of their own (after the saga scenario's 500)
  const saga: Curve = { name: 'Arrangements at once, time until all settle', unit: 's', points: [] };
  let offset = SAGA_PROJECTS;
  for (const count of ARRANGEMENTS) {
    const projects = context.sagaProjects.slice(offset, offset + count);
    offset += count;
    if (projects.length < count)
      throw new Error(
        `growth: ${projects.length} saga projects loaded, ${count} wanted (run.ts loads them when growth is chosen)`,
      );
    const result = await settleArrangements(context, projects, 600_000);
    saga.points.push({
      label: `${count}`,
      x: count,
      value: result.settled / 1000,
      extra: {
        accepted: result.accepted / 1000,
        confirmed: result.confirmed,
        refusedOrUnsettled: result.refused.length + result.arranging,
      },
    });
  }
  curves.push(saga);
  figures.push({
    name: 'settle time, 5,000 / 500 arrangements',
    value: saga.points[2].value / saga.points[0].value,
    unit: '×',
    target: { value: 10, lowerIsBetter: true, inclusive: true },
  });

  // ---- a draw over larger and larger pools: experts added to the bench database between the points
  const draw: Curve = { name: 'One draw, p50', unit: 'ms', points: [] };
  const database = openDomainDatabase<ExpertsDatabase>(databaseUrl(config, 'experts'), 'experts', config.PG_POOL_SIZE);
  try {
    const experts = new ExpertsService(database.db, systemClock, {
      drawLimit30d: config.DRAW_LIMIT_30D,
      hostRegionShare: hostRegionShare(config),
      inviteTtlMs: config.INVITE_TTL,
    });
    let index = 50_000;
    for (const pool of POOLS) {
      await growPool(database.db, pool, log);
      const indexes = Array.from({ length: DRAWS + 2 }, (_, n) => index + n);
      index += DRAWS + 2;
      await recordProjects(config, indexes);
      const times: number[] = [];
      let failed = 0;
      for (const [n, drawIndex] of indexes.entries()) {
        const { request, facts } = drawFor(drawIndex);
        const at = performance.now();
        const outcome = await experts.runDraw((await experts.requestDraw(request)).id, facts);
        if (outcome.kind !== 'SEATED') failed++;
        // Two warm-up draws per pool (plans and caches for the new statistics).
        if (n >= 2) times.push(performance.now() - at);
      }
      draw.points.push({
        label: `${pool / 1000}k`,
        x: pool,
        value: median(times),
        extra: { p99: percentile(times, 99), failed },
      });
      log(
        `  growth: draw over ${pool} experts: p50 ${median(times).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms${failed ? `, ${failed} did not seat` : ''}`,
      );
    }
  } finally {
    await database.close();
  }
  curves.push(draw);
  figures.push({
    name: `draw p50, ${POOLS[POOLS.length - 1]} / ${POOLS[0]} experts`,
    value: draw.points[draw.points.length - 1].value / draw.points[0].value,
    unit: '×',
    target: { value: 3, lowerIsBetter: true, inclusive: true },
  });
  figures.push({ name: 'growth scenario run time', value: (performance.now() - started) / 1000, unit: 's' });

  return {
    name: 'Growth',
    status: 'measured',
    note: 'Board: 7 requests per range after one unmeasured (and 3 on the 1-day range first), through a gateway process of its own with the response cache off. Draws: ExpertsService as in the draw scenario, 15 per pool after 2 unmeasured, experts generated by app/seed/generate and added to the bench database between points. Arrangements: as the saga scenario, with saga projects of their own. Reconciliation: runReconciliation as PROVINCIAL_ADMIN, polled every 100 ms until DONE.',
    figures,
    markdown: writeCharts(context, curves),
    detail: { curves },
  };
}

/** Adds generated experts (with their employment, conflicts and penalties) until the pool has `size`. */
/** Grows the bench database's pool to `size` experts (app/seed/generate), with their employment, conflicts and penalties. */
export async function growPool(db: Kysely<ExpertsDatabase>, size: number, log: (line: string) => void): Promise<void> {
  const { count } = await db
    .selectFrom('expert')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  // Every point is measured right after a vacuum (analyze), the first too: it follows the saga's thousands of writes.
  if (Number(count) >= size) {
    await sql`vacuum (analyze)`.execute(db);
    return;
  }
  const at = performance.now();
  const generated = generateDemoData({ experts: size }).experts;
  const existing = new Set((await db.selectFrom('expert').select('id').execute()).map((row) => row.id));
  const added = new Set<string>();
  const experts = generated.expert.filter((expert) => !existing.has(expert.id) && added.add(expert.id));
  const chunks = async <T>(table: 'expert' | 'employment' | 'declared_conflict' | 'penalty', rows: T[]) => {
    for (let start = 0; start < rows.length; start += 2000)
      await db
        .insertInto(table)
        .values(rows.slice(start, start + 2000) as never)
        .execute();
  };
  await chunks('expert', experts);
  await chunks(
    'employment',
    generated.employment.filter((row) => added.has(row.expert_id as string)),
  );
  await chunks(
    'declared_conflict',
    generated.declared_conflict.filter((row) => added.has(row.expert_id as string)),
  );
  await chunks(
    'penalty',
    generated.penalty.filter((row) => added.has(row.expert_id as string)),
  );
  await sql`vacuum (analyze)`.execute(db);
  log(
    `  growth: pool grown to ${size} experts (${experts.length} added) in ${((performance.now() - at) / 1000).toFixed(0)} s`,
  );
}

/** One SVG per curve beside the results (bench/results/<run>-<curve>.svg) and its markdown table with the link. */
function writeCharts(context: ScenarioContext, curves: Curve[]): string[] {
  const lines: string[] = [];
  const charts: [string, Chart, Curve][] = curves.map((curve) => {
    const slug = curve.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '');
    const limit = curve.unit === 'MiB' ? { y: 512, label: 'target: < 512 MiB' } : undefined;
    const xTitle = curve.name.startsWith('One draw')
      ? 'experts in the pool'
      : curve.name.startsWith('Arrangements')
        ? 'arrangements at once'
        : 'days in the range';
    return [
      slug,
      {
        title: curve.name,
        xTitle,
        yTitle: curve.unit,
        series: [
          {
            name: curve.name,
            points: curve.points.map((point) => ({ x: point.x, y: point.value, label: point.label })),
          },
        ],
        ...(limit ? { limit } : {}),
      },
      curve,
    ];
  });
  for (const [slug, chart, curve] of charts) {
    const file = `${context.resultsBase}-${slug}.svg`;
    writeFileSync(join(ROOT, 'bench', 'results', file), renderChart(chart));
    const extras = [...new Set(curve.points.flatMap((point) => Object.keys(point.extra ?? {})))];
    const cells = (values: string[]) => values.map((value) => ` ${value} |`).join('');
    lines.push(
      `### ${curve.name} ([chart](${file}))`,
      '',
      `| point | ${curve.unit} |${cells(extras)}`,
      `| --- | ---: |${cells(extras.map(() => '---:'))}`,
    );
    for (const point of curve.points)
      lines.push(
        `| ${point.label} | ${point.value.toFixed(2)} |${cells(extras.map((key) => (point.extra?.[key] ?? 0).toFixed(key === 'p99' || key === 'accepted' ? 2 : 0)))}`,
      );
    lines.push('', `![${curve.name}](${file})`, '');
  }
  return lines;
}
