// Fault (issue 9): a jobs process SIGKILLed in the middle of expert draws. Ten projects with overlapping windows draw
// from a pool of fourteen experts at once (so rounds lose races and some draws run out of experts); the worker is killed
// as soon as the first round is written, a new worker takes the draws over once their locks lapse, and every draw ends
// cleanly: seated and then completed as the experts accept, or FAILED with nothing left live. No expert sits in two
// overlapping live seats, no group holds more live seats than it asked for, every draw still verifies, and the timeline
// records each outcome once. A second round kills twice: the worker that recovered the first round, with draws
// published as they commit, then the worker that takes those draws over, as soon as it restarts one of them (a draw
// job cut short twice; BullMQ's default of one stall used to fail it for good).
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { openRedis } from '../../lib/redis';
import { as, eventually, startTestHub, type TestHub } from '../support/hub';
import { DRAW, feeAdvancedProject, mainRooms } from '../support/expert-draw';
import { startChild, type Child } from './support/processes';

jest.setTimeout(240_000);

const PROJECTS = 10;
const POOL = 14;
const SPECIALTIES = ['CRASH_POOL_A', 'CRASH_POOL_B'];
// A worker compiles the tree with ts-node as it starts: a few seconds, far more on a loaded machine.
const SETTLE_MS = 90_000;
const RESPOND = `mutation($seat: ID!) { respondToInvitation(seatId: $seat, accept: true) { id status } }`;

let t: TestHub;
let drawQueue: Queue;
let connection: Redis;
const workers: Child[] = [];

beforeAll(async () => {
  // No workers in this process: only the child processes run jobs and relay the outboxes.
  t = await startTestHub({ jobs: false });
  // The seeded demo projects' messages would be relayed with ours; this database is the test's own.
  for (const domain of ['venues', 'experts', 'projects'] as const) {
    await sql`update outbox set sent_at = now() where sent_at is null`.execute(t.databases[domain].db);
  }
  connection = openRedis(t.config.REDIS_URL);
  drawQueue = new Queue('expert-draws', { connection, prefix: t.config.HUB_QUEUE_PREFIX });
});
afterAll(async () => {
  for (const worker of workers)
    if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill('SIGKILL');
  await Promise.all(workers.map((worker) => worker.exited));
  await drawQueue.close();
  connection.disconnect();
  await t.stop();
});

function startWorker(): Child {
  const worker = startChild('jobs/main.ts', {
    DATABASE_URL: t.database.url,
    REDIS_URL: t.config.REDIS_URL,
    HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX,
    HUB_ENV: 'test',
    JOBS_METRICS_PORT: '0',
    OUTBOX_POLL_INTERVAL: '20ms',
    // A killed worker's active jobs go to the next worker after this long.
    JOB_LOCK_DURATION: '5s',
    // The pool is small on purpose; the 30-day limit would only blur the races.
    DRAW_LIMIT_30D: '100',
  });
  workers.push(worker);
  return worker;
}

async function kill(worker: Child): Promise<void> {
  worker.process.kill('SIGKILL');
  const exit = await worker.exited;
  expect(exit.signal).toBe('SIGKILL');
}

async function stop(worker: Child): Promise<void> {
  worker.process.kill('SIGTERM');
  const exit = await worker.exited;
  expect(exit.code).toBe(0);
}

/** Fourteen experts, not used by the other round, given both pool specialties. */
async function makePool(round: number): Promise<string[]> {
  const db = t.databases.experts.db;
  const pool = await db
    .selectFrom('expert')
    .select('id')
    .where('status', '=', 'ACTIVE')
    .where('supervision_department', 'is', null)
    .orderBy('id')
    .offset(round * POOL)
    .limit(POOL)
    .execute();
  await db
    .updateTable('expert')
    .set({
      specialties: sql<string[]>`specialties || ${SPECIALTIES.map((specialty) => `${specialty}_${round}`)}::text[]`,
    })
    .where(
      'id',
      'in',
      pool.map((expert) => expert.id),
    )
    .execute();
  return pool.map((expert) => expert.id);
}

/** FEE_ADVANCED projects whose 8-hour windows start an hour apart (each overlaps its seven neighbours on each side). */
async function makeProjects(round: number): Promise<Project[]> {
  const base = Date.now() + (70 + 10 * round) * 86_400_000;
  // A MAIN booking takes its room over the window: overlapping projects each have a room (and host) of their own. LOCAL
  // projects have no regional rule, so every draw still draws from the round's one pool.
  const rooms = await mainRooms(t, 5);
  if (rooms.length < 8)
    throw new Error(`the seed has ${rooms.length} main rooms of 5 seats; 8 overlapping windows need 8`);
  const projects: Project[] = [];
  for (let i = 0; i < PROJECTS; i++) {
    const startsAt = new Date(base + i * 3_600_000);
    const room = rooms[i % rooms.length];
    const id = await feeAdvancedProject(t, {
      host: room.platform_id,
      mode: 'LOCAL',
      startsAt,
      endsAt: new Date(startsAt.getTime() + 8 * 3_600_000),
      bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
    });
    projects.push({ id, roomId: room.id, host: room.platform_id });
  }
  return projects;
}

interface Project {
  id: string;
  roomId: string;
  host: string;
}

/** The draws of the projects, with their live and invited seats and their project's status. */
async function drawStates(projectIds: string[]) {
  const db = t.databases.experts.db;
  const draws = await db.selectFrom('draw').selectAll().where('project_id', 'in', projectIds).execute();
  const seats = await db
    .selectFrom('committee_seat')
    .select([
      'draw_id',
      (eb) => eb.fn.countAll<string>().as('live'),
      (eb) => eb.fn.count<string>('invited_at').as('invited'),
      (eb) => eb.fn.count<string>('responded_at').as('answered'),
    ])
    .where('project_id', 'in', projectIds)
    .where('live', '=', true)
    .groupBy('draw_id')
    .execute();
  const statuses = new Map(
    (
      await t.databases.projects.db
        .selectFrom('project')
        .select(['id', 'status'])
        .where('id', 'in', projectIds)
        .execute()
    ).map((row) => [row.id, row.status]),
  );
  return draws.map((draw) => {
    const row = seats.find((seat) => seat.draw_id === draw.id);
    return {
      draw,
      live: Number(row?.live ?? 0),
      invited: Number(row?.invited ?? 0),
      answered: Number(row?.answered ?? 0),
      project: statuses.get(draw.project_id)!,
    };
  });
}

type DrawState = Awaited<ReturnType<typeof drawStates>>[number];
/** Seated: every seat live and invited, the project drawing. Failed: nothing live, the project back to FEE_ADVANCED. */
const seatedCleanly = (state: DrawState) =>
  state.draw.status === 'PENDING' && state.live === 4 && state.invited === 4 && state.project === 'EXPERTS_DRAWING';
const failedCleanly = (state: DrawState) =>
  state.draw.status === 'FAILED' && state.live === 0 && state.project === 'FEE_ADVANCED';

/** The invariants the database must hold whatever the crash interrupted. */
async function expectNoDoubleSeatingOrOverfilling(): Promise<void> {
  const db = t.databases.experts.db;
  const doubleSeated = await sql<{ expert_id: string }>`
    select a.expert_id from committee_seat a join committee_seat b
      on a.expert_id = b.expert_id and a.id < b.id and a.live and b.live and a.during && b.during`.execute(db);
  expect(doubleSeated.rows).toEqual([]);
  const overfilled = await sql<{ draw_id: string; group_key: string }>`
    select g.draw_id, g.group_key from draw_group g
    where (select count(*) from committee_seat s where s.draw_id = g.draw_id and s.group_key = g.group_key and s.live) > g.seats`.execute(
    db,
  );
  expect(overfilled.rows).toEqual([]);
}

/** Rounds and seats written so far for the projects: it changes as soon as a worker makes progress on their draws. */
async function progress(projectIds: string[]): Promise<string> {
  const result = await sql<{ rounds: string; seats: string; statuses: string }>`
    select (select count(*) from draw_round r join draw d on d.id = r.draw_id where d.project_id = any(${projectIds}::text[])) as rounds,
           (select count(*) from committee_seat where project_id = any(${projectIds}::text[])) as seats,
           (select string_agg(status, ',' order by id) from draw where project_id = any(${projectIds}::text[])) as statuses`.execute(
    t.databases.experts.db,
  );
  return JSON.stringify(result.rows[0]);
}

/** Returns as soon as the draws' progress differs from `since` (polled every 5 ms, so the kill lands mid-draw). */
async function progressBeyond(projectIds: string[], since: string): Promise<void> {
  await eventually(
    async () => ((await progress(projectIds)) !== since ? true : undefined),
    SETTLE_MS,
    'a worker to make progress on the draws',
    5,
  );
}

/**
 * One round: ten draws requested at once, the worker running them SIGKILLed as soon as they progress, `kills` times
 * in a row (each next worker killed as soon as it has taken the draws over), then a last worker finishes them.
 */
async function crashRound(
  round: number,
  running: Child | null,
  kills: number,
): Promise<{ survivor: Child; figures: Record<string, unknown> }> {
  const started = Date.now();
  const pool = await makePool(round);
  const projects = await makeProjects(round);
  const projectIds = projects.map((project) => project.id);
  const seatsIn = (roomId: string) =>
    SPECIALTIES.map((specialty) => ({ roomId, specialty: `${specialty}_${round}`, count: 2 }));
  const db = t.databases.experts.db;

  // With no worker running the messages wait in the outbox and the new worker's relay publishes them all at once;
  // with one running, they are published as they commit.
  const responses = await Promise.all(
    projects.map(({ id, roomId, host }) =>
      t.graphql(as.operator(host), DRAW, { projectId: id, seats: seatsIn(roomId) }),
    ),
  );
  expect(responses.map((response) => response.errors)).toEqual(projectIds.map(() => undefined));
  const requested = await progress(projectIds);
  let victim = running ?? startWorker();
  let since = requested;
  let stalled: { id: string; started: number }[] = [];
  const atKills: Record<string, number>[] = [];
  let killedAt = 0;
  for (let n = 1; n <= kills; n++) {
    if (stalled.length > 0) {
      // Killed again as soon as this worker restarts one of the draw jobs the previous kill interrupted (polled every
      // 2 ms: a draw takes tens of milliseconds).
      const restarted = async () =>
        (await Promise.all(stalled.map((job) => drawQueue.getJob(job.id)))).some(
          (job, i) => (job?.attemptsStarted ?? 0) > stalled[i].started,
        );
      await eventually(
        async () => ((await restarted()) ? true : undefined),
        SETTLE_MS,
        'a worker to take over the interrupted draw jobs',
        2,
      );
    } else {
      await progressBeyond(projectIds, since);
    }
    await kill(victim);
    killedAt = Date.now();
    // The draw jobs the kill interrupted: still active in Redis, their worker gone.
    stalled = (await drawQueue.getJobs(['active'], 0, -1))
      .filter((job) => job.name === 'draw' && projectIds.includes((job.data as { projectId: string }).projectId))
      .map((job) => ({ id: job.id!, started: job.attemptsStarted }));
    const states = await drawStates(projectIds);
    const rounds = await db
      .selectFrom('draw_round as r')
      .innerJoin('draw as d', 'd.id', 'r.draw_id')
      .select('r.draw_id')
      .where('d.project_id', 'in', projectIds)
      .execute();
    const inFlight = states.filter((state) => !seatedCleanly(state) && !failedCleanly(state));
    atKills.push({
      rounds: rounds.length,
      inFlight: inFlight.length,
      interruptedJobs: stalled.length,
      seated: states.filter(seatedCleanly).length,
      failed: states.filter(failedCleanly).length,
    });
    // The kill must have interrupted a draw, or it tested nothing.
    expect(stalled.length).toBeGreaterThan(0);
    expect(inFlight.length).toBeGreaterThan(0);
    await expectNoDoubleSeatingOrOverfilling();
    since = await progress(projectIds);
    if (n < kills) victim = startWorker();
  }

  const survivor = startWorker();
  const settled = await eventually(
    async () => {
      const states = await drawStates(projectIds);
      // A draw job failed for good leaves its draw PENDING for ever: say why at once rather than time out.
      const dead = (await drawQueue.getJobs(['failed'], 0, -1)).filter((job) =>
        projectIds.includes((job.data as { projectId: string }).projectId),
      );
      if (dead.length > 0)
        throw new Error(
          `draw job(s) failed for good: ${JSON.stringify(dead.map((job) => ({ id: job.id, reason: job.failedReason, stalled: job.stalledCounter, attemptsMade: job.attemptsMade })))}`,
        );
      return states.length === PROJECTS && states.every((state) => seatedCleanly(state) || failedCleanly(state))
        ? states
        : undefined;
    },
    SETTLE_MS,
    'every draw to be seated or to fail after the crash',
  );
  const recoveredMs = Date.now() - killedAt;
  await expectNoDoubleSeatingOrOverfilling();

  // Every invited expert accepts: each seated draw completes and its project's committee is confirmed.
  const seated = settled.filter(seatedCleanly);
  const failed = settled.filter(failedCleanly);
  expect(seated.length).toBeGreaterThan(0);
  for (const { draw } of failed) expect(draw.failure_reason).toMatch(/INSUFFICIENT_EXPERTS|lost the race/);
  const invitations = await db
    .selectFrom('committee_seat')
    .select(['id', 'expert_id'])
    .where(
      'draw_id',
      'in',
      seated.map((state) => state.draw.id),
    )
    .where('status', '=', 'INVITED')
    .execute();
  for (const seat of invitations) {
    const answer = await t.graphql(as.expert(seat.expert_id!), RESPOND, { seat: seat.id });
    expect(answer.errors).toBeUndefined();
  }
  await eventually(
    async () => {
      const states = await drawStates(projectIds);
      const completed = states.filter(
        (state) =>
          state.draw.status === 'COMPLETED' &&
          state.live === 4 &&
          state.answered === 4 &&
          state.project === 'COMMITTEE_CONFIRMED',
      );
      return completed.length === seated.length && states.filter(failedCleanly).length === failed.length
        ? true
        : undefined;
    },
    SETTLE_MS,
    'every seated draw to complete',
  );
  await expectNoDoubleSeatingOrOverfilling();

  // Every draw, completed or failed, recomputes from what it stored (lost races and the rounds around the crash too).
  const draws = await db.selectFrom('draw').select(['id', 'status']).where('project_id', 'in', projectIds).execute();
  for (const draw of draws) {
    const verification = await t.hub.services.experts.verifyDraw(draw.id);
    expect({ draw: draw.id, status: draw.status, ...verification }).toMatchObject({ draw: draw.id, matches: true });
  }
  // The timeline records each seated draw once, and its committee's confirmation once.
  const events = await t.databases.projects.db
    .selectFrom('project_event')
    .select(['project_id', 'kind'])
    .where('project_id', 'in', projectIds)
    .where('kind', 'in', ['EXPERTS_DRAWN', 'COMMITTEE_CONFIRMED', 'EXPERT_DRAW_FAILED'])
    .execute();
  for (const { draw } of seated) {
    expect(
      events
        .filter((event) => event.project_id === draw.project_id)
        .map((event) => event.kind)
        .sort(),
    ).toEqual(['COMMITTEE_CONFIRMED', 'EXPERTS_DRAWN']);
  }
  for (const { draw } of failed) {
    expect(events.filter((event) => event.project_id === draw.project_id).map((event) => event.kind)).toEqual([
      'EXPERT_DRAW_FAILED',
    ]);
  }
  const lostRaces = await db
    .selectFrom('draw_round as r')
    .innerJoin('draw as d', 'd.id', 'r.draw_id')
    .select('r.draw_id')
    .where('d.project_id', 'in', projectIds)
    .where('r.outcome', '=', 'LOST_RACE')
    .execute();
  const figures = {
    round,
    pool: pool.length,
    draws: PROJECTS,
    kills,
    atKills,
    completed: seated.length,
    failedCleanly: failed.length,
    lostRaces: lostRaces.length,
    recoveredMs,
    roundMs: Date.now() - started,
  };

  console.log(`draw crash: ${JSON.stringify(figures)}`);
  return { survivor, figures };
}

it('finishes draws whose worker was SIGKILLed mid-draw, twice, with no expert double-seated and every draw verifiable', async () => {
  const first = await crashRound(0, null, 1);
  // Then the worker that recovered the first round is killed with draws published as they commit, and the worker
  // that takes them over is killed too: a draw can be interrupted twice.
  const second = await crashRound(1, first.survivor, 2);
  await stop(second.survivor);
});
