// The draw scenario: committee draws over the whole pool through ExpertsService.requestDraw + runDraw, the verbs the
// expert-draws job calls; one at a time (median and p99 of 50), then 10 in parallel (draws per second).
import { systemClock } from '../lib/clock';
import { databaseUrl, hostRegionShare } from '../lib/config';
import { openDomainDatabase } from '../lib/db';
import { REFERENCE_DATE } from '../app/seed/generate';
import { HENAN_CITIES, ZHUMADIAN_COUNTIES } from '../app/seed/henan';
import { ExpertsService, type DrawRequest, type EligibilityFacts, type ExpertsDatabase } from '../subgraphs/experts';
import type { ProjectsDatabase } from '../subgraphs/projects/types';
import { groupKeyOf } from '../subgraphs/experts/selection';
import { median } from './load';
import type { ScenarioContext, ScenarioReport } from './scenarios';

const DAY_MS = 86_400_000;
const SINGLE = 50;
const PARALLEL = 10;
const PARALLEL_TOTAL = 60;
const WARM_UP = [10_000, 10_001, 10_002];

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * A REMOTE Zhumadian project: 3 civil engineers in the main room, one at each of two partner cities' rooms (regional
 * rule: from that city). Counties would not do: they are in Zhumadian's own region, capped at a third of the seats.
 */
export function drawFor(index: number): { request: DrawRequest; facts: EligibilityFacts } {
  const projectId = `prj-drawbench-${index}`;
  // Windows spread over weeks so the seeded history (30-day limit, overlaps) matters as it would in production.
  const startsAt = new Date(REFERENCE_DATE.getTime() + (45 + (index % 30)) * DAY_MS);
  const endsAt = new Date(startsAt.getTime() + 3 * 3_600_000);
  const partners = HENAN_CITIES.filter((city) => city.code !== '411700');
  const counties = [partners[index % partners.length], partners[(index + 5) % partners.length]];
  const groups: DrawRequest['groups'] = [
    {
      bookingId: `bk-drawbench-${index}-0`,
      roomId: 'room-411700-1',
      platformId: '411700',
      role: 'MAIN',
      specialty: 'CIVIL_ENGINEERING',
      seats: 3,
    },
    ...counties.map((county, n) => ({
      bookingId: `bk-drawbench-${index}-${n + 1}`,
      roomId: `room-${county.code}-1`,
      platformId: county.code,
      role: 'SECONDARY' as const,
      specialty: 'CIVIL_ENGINEERING',
      seats: 1,
    })),
  ];
  const hostRegion = ['411700', ...ZHUMADIAN_COUNTIES.map((county) => county.code)];
  const request: DrawRequest = {
    projectId,
    hostPlatformId: '411700',
    hostParentId: '410000',
    department: 'HOUSING_AND_CONSTRUCTION',
    mode: 'REMOTE',
    startsAt,
    endsAt,
    supervisorNonce: null,
    groups,
  };
  const facts: EligibilityFacts = {
    projectId,
    tenderer: '驻马店市示例城市建设投资有限公司',
    agency: '驻马店示例招标代理有限公司',
    bidders: ['示例投标人甲', '示例投标人乙', '示例投标人丙'],
    department: 'HOUSING_AND_CONSTRUCTION',
    hostRegion,
    mode: 'REMOTE',
    startsAt: startsAt.toISOString(),
    endsAt: endsAt.toISOString(),
    pools: Object.fromEntries(
      groups.map((group) => [
        groupKeyOf(group.roomId, group.specialty),
        group.role === 'MAIN' ? null : [group.platformId],
      ]),
    ),
  };
  return { request, facts };
}

/**
 * The drawn projects, EXPERTS_DRAWING in the projects domain as in production: each invitation job puts its seat on
 * the project's timeline, and without the project every one of them failed and was retried in the background
 * (attempts 8, backoff from 500 ms) while the draws were being timed.
 */
export async function recordProjects(config: ScenarioContext['config'], indexes: number[]): Promise<void> {
  const projects = openDomainDatabase<ProjectsDatabase>(databaseUrl(config, 'projects'), 'projects', 2);
  try {
    const rows = indexes.map((index) => {
      const { request, facts } = drawFor(index);
      return {
        id: request.projectId,
        code: `DRAW-BENCH-${index}`,
        name: `抽取示例项目${index}`,
        category: 'CONSTRUCTION' as const,
        department: 'HOUSING_AND_CONSTRUCTION' as const,
        host_platform_id: request.hostPlatformId,
        tenderer: facts.tenderer,
        agency: facts.agency,
        bidders: facts.bidders,
        budget: '5000000000',
        mode: request.mode,
        committee_size: 5,
        tenderer_representatives: 0,
        evaluation_starts_at: request.startsAt,
        evaluation_ends_at: request.endsAt,
        status: 'EXPERTS_DRAWING' as const,
        fee_advance: null,
        submitted_by: `agency:${facts.agency}`,
      };
    });
    await projects.db.insertInto('project').values(rows).execute();
  } finally {
    await projects.close();
  }
}

export async function drawScenario(context: ScenarioContext): Promise<ScenarioReport> {
  const { config } = context;
  const database = openDomainDatabase<ExpertsDatabase>(databaseUrl(config, 'experts'), 'experts', config.PG_POOL_SIZE);
  const experts = new ExpertsService(database.db, systemClock, {
    drawLimit30d: config.DRAW_LIMIT_30D,
    hostRegionShare: hostRegionShare(config),
    inviteTtlMs: config.INVITE_TTL,
  });
  const pool = await database.db
    .selectFrom('expert')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  await recordProjects(config, [...Array.from({ length: SINGLE + PARALLEL_TOTAL }, (_, index) => index), ...WARM_UP]);
  const failures: string[] = [];
  const once = async (index: number): Promise<number> => {
    const { request, facts } = drawFor(index);
    const started = performance.now();
    const draw = await experts.requestDraw(request);
    const outcome = await experts.runDraw(draw.id, facts);
    // A draw that fails still did its work (and is timed), but the report says how many and why.
    if (outcome.kind !== 'SEATED') failures.push(`draw ${index}: ${JSON.stringify(outcome)}`);
    return performance.now() - started;
  };
  try {
    for (const index of WARM_UP) await once(index);
    const times: number[] = [];
    for (let index = 0; index < SINGLE; index++) times.push(await once(index));
    context.log(
      `  draw: p50 ${median(times).toFixed(1)} ms, p99 ${percentile(times, 99).toFixed(1)} ms over ${SINGLE}`,
    );
    let next = SINGLE;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: PARALLEL }, async () => {
        while (next < SINGLE + PARALLEL_TOTAL) await once(next++);
      }),
    );
    const perSecond = PARALLEL_TOTAL / ((performance.now() - started) / 1000);
    if (failures.length)
      context.log(`  draw: ${failures.length} draws did not seat their committee, first: ${failures[0]}`);
    context.log(`  draw: ${perSecond.toFixed(1)} draws/s with ${PARALLEL} in parallel`);
    return {
      name: 'Draw',
      status: 'measured',
      note: `ExpertsService.requestDraw + runDraw (5 seats: 3 at the main room, 1 each at two partner cities' rooms under the regional rule) over a pool of ${pool.count} experts, in the bench process against the bench database; invitations go out through the outbox as in production.${failures.length ? ` First failure: ${failures[0]}` : ''}`,
      figures: [
        { name: 'one draw, p50', value: median(times), unit: 'ms', target: { value: 50, lowerIsBetter: true } },
        { name: 'one draw, p99', value: percentile(times, 99), unit: 'ms' },
        { name: `draws/s, ${PARALLEL} in parallel`, value: perSecond, unit: 'draws/s' },
        {
          name: `draws that did not seat their committee (of ${SINGLE + PARALLEL_TOTAL + 3})`,
          value: failures.length,
          unit: 'draws',
        },
      ],
    };
  } finally {
    await database.close();
  }
}
