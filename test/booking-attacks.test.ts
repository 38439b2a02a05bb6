// Attacks on the booking saga: 50 projects racing for the same few rooms, and worker processes killed mid-saga.
// Afterwards every project is all-or-none and no seat is in two live bookings.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { as, eventually, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import {
  ARRANGE,
  allOrNone,
  bookingsOf,
  CONFIRM,
  filedProject,
  inDays,
  projectStatus,
  seatInvariants,
  settled,
} from './support/booking';

const CITY = '410100';
// A worker process compiles the tree with ts-node as it starts: a second or two, far more on a loaded machine.
const WORKER_WAIT_MS = 60_000;

describe('concurrency attack: 50 projects, overlapping windows, the same few rooms', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('never puts a seat in two live bookings and leaves every project VENUES_CONFIRMED or FILED', async () => {
    const PROJECTS = 50;
    const counties = ['room-411721-1', 'room-411722-1', 'room-411723-1'];
    const plans = await Promise.all(
      Array.from({ length: PROJECTS }, async (_, i) => {
        // Four-hour windows starting every two hours: each overlaps its neighbours.
        const start = inDays(40, (i % 6) * 2);
        const projectId = await filedProject(t, { startsAt: start, endsAt: new Date(start.getTime() + 4 * 3_600_000) });
        const secondary = [{ roomId: counties[i % 3], seats: 1 + (i % 2) }];
        if (i % 5 === 0) secondary.push({ roomId: 'room-410100-1', seats: 2 });
        return { projectId, mainRoomId: i % 2 ? 'room-411700-1' : 'room-411700-2', secondary };
      }),
    );

    const started = Date.now();
    // The city partner confirms by hand whatever is held at its room, as fast as it can, while the others race.
    let partnerRunning = true;
    const partner = (async () => {
      while (partnerRunning) {
        const held = await t.databases.venues.db
          .selectFrom('booking')
          .select('id')
          .where('room_id', '=', 'room-410100-1')
          .where('status', '=', 'HELD')
          .execute();
        await Promise.all(held.map((booking) => t.graphql(as.partner(CITY), CONFIRM, { id: booking.id })));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const answers = await Promise.all(
      plans.map((plan) =>
        t.graphql(as.operator(ZHUMADIAN), ARRANGE, {
          projectId: plan.projectId,
          mainRoomId: plan.mainRoomId,
          secondary: plan.secondary,
        }),
      ),
    );
    const codes = answers.map((answer) => answer.errors?.[0].extensions?.code ?? 'ACCEPTED');
    expect(codes.every((code) => code === 'ACCEPTED' || code === 'CONFLICT')).toBe(true);

    const statuses = await eventually(
      async () => {
        const all = await Promise.all(plans.map((plan) => projectStatus(t, plan.projectId)));
        return all.includes('VENUES_ARRANGING') ? undefined : all;
      },
      60_000,
      'every arrangement to settle',
    );
    const settleMs = Date.now() - started;
    partnerRunning = false;
    await partner;

    expect(statuses.every((status) => status === 'VENUES_CONFIRMED' || status === 'FILED')).toBe(true);
    for (const plan of plans) await allOrNone(t, plan.projectId);
    const invariants = await seatInvariants(t);
    expect(invariants.doubleBooked).toBe(0);
    expect(invariants.disagreeing).toBe(0);
    expect(invariants.seatsHeld).toBe(invariants.seatsOfLiveBookings);
    const bookings = (await Promise.all(plans.map((plan) => bookingsOf(t, plan.projectId)))).flat();
    const confirmed = statuses.filter((status) => status === 'VENUES_CONFIRMED').length;
    expect(confirmed).toBeGreaterThan(0);
    // Two main rooms cannot hold 50 projects whose windows overlap their neighbours': contenders must have lost, either
    // refused up front or released back to FILED, and each loser holds nothing.
    const lost = plans.filter((_, i) => codes[i] === 'CONFLICT' || statuses[i] === 'FILED');
    expect(lost.length).toBeGreaterThan(0);
    for (const plan of lost)
      expect(
        (await bookingsOf(t, plan.projectId)).filter(
          (booking) => booking.status === 'CONFIRMED' || booking.status === 'HELD',
        ),
      ).toEqual([]);
    expect(confirmed + lost.length).toBe(PROJECTS);

    const figures = {
      projects: PROJECTS,
      accepted: codes.filter((code) => code === 'ACCEPTED').length,
      refusedUpFront: codes.filter((code) => code === 'CONFLICT').length,
      venuesConfirmed: confirmed,
      backToFiled: statuses.filter((status) => status === 'FILED').length,
      bookings: bookings.length,
      liveBookings: bookings.filter((booking) => booking.status === 'CONFIRMED' || booking.status === 'HELD').length,
      seatsHeld: invariants.seatsHeld,
      settleMs,
      violations:
        invariants.doubleBooked +
        invariants.disagreeing +
        Math.abs(invariants.seatsHeld - invariants.seatsOfLiveBookings),
    };
    console.log(`booking concurrency attack: ${JSON.stringify(figures)}`);
    expect(figures.violations).toBe(0);
  });
});

describe('crash attack: a worker process killed mid-saga, another finishes it', () => {
  let t: TestHub;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    // No workers in this process: only the child processes below run jobs and relay the outbox.
    t = await startTestHub({ jobs: false });
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
    await t.stop();
  });

  function startWorker(): ChildProcess {
    const worker = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', join(__dirname, '..', 'jobs', 'main.ts')],
      {
        cwd: join(__dirname, '..'),
        env: {
          ...process.env,
          DATABASE_URL: t.database.url,
          REDIS_URL: t.config.REDIS_URL,
          HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX,
          HUB_ENV: 'test',
          LOG_LEVEL: process.env.DEBUG_WORKERS ? 'info' : 'silent',
          JOBS_METRICS_PORT: '0',
          OUTBOX_POLL_INTERVAL: '50ms',
          // A killed worker's active jobs go to the next worker after this long.
          JOB_LOCK_DURATION: '5s',
        },
        stdio: process.env.DEBUG_WORKERS ? 'inherit' : 'ignore',
      },
    );
    workers.push(worker);
    return worker;
  }

  async function kill(worker: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGKILL');
    await exited;
  }

  async function stop(worker: ChildProcess): Promise<void> {
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.kill('SIGTERM');
    await exited;
  }

  it(
    'finishes a saga whose worker died while a partner had to decide',
    async () => {
      const projectId = await filedProject(t, { startsAt: inDays(50, 1), endsAt: inDays(50, 9) });
      const response = await t.graphql(as.operator(), ARRANGE, {
        projectId,
        mainRoomId: 'room-411700-1',
        secondary: [
          { roomId: 'room-411721-1', seats: 2 },
          { roomId: 'room-410100-1', seats: 3 },
        ],
      });
      expect(response.errors).toBeUndefined();
      const first = startWorker();
      const cityBooking = await eventually(
        async () => {
          const bookings = await bookingsOf(t, projectId);
          return bookings.length === 3 && bookings.filter((b) => b.status === 'CONFIRMED').length === 2
            ? bookings.find((b) => b.status === 'HELD')
            : undefined;
        },
        WORKER_WAIT_MS,
        'the holds',
      );
      await kill(first);
      // The partner answers while no worker runs: its decision waits in the venues outbox.
      expect((await t.graphql(as.partner(CITY), CONFIRM, { id: cityBooking.id })).errors).toBeUndefined();
      expect(await projectStatus(t, projectId)).toBe('VENUES_ARRANGING');
      const second = startWorker();
      expect(await settled(t, projectId, undefined, WORKER_WAIT_MS)).toBe('VENUES_CONFIRMED');
      await allOrNone(t, projectId);
      await stop(second);
    },
    3 * WORKER_WAIT_MS,
  );

  it(
    'finishes sagas whose worker was killed right after it started holding',
    async () => {
      const plans = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const start = inDays(51, i);
          const projectId = await filedProject(t, {
            startsAt: start,
            endsAt: new Date(start.getTime() + 3 * 3_600_000),
          });
          return {
            projectId,
            mainRoomId: i % 2 ? 'room-411700-1' : 'room-411700-2',
            secondary: [{ roomId: i % 3 ? 'room-411722-1' : 'room-411724-2', seats: 2 }],
          };
        }),
      );
      await Promise.all(
        plans.map((plan) =>
          t.graphql(as.operator(), ARRANGE, {
            projectId: plan.projectId,
            mainRoomId: plan.mainRoomId,
            secondary: plan.secondary,
          }),
        ),
      );
      const first = startWorker();
      await eventually(
        async () => {
          const row = await t.databases.venues.db
            .selectFrom('booking')
            .select('id')
            .where(
              'project_id',
              'in',
              plans.map((plan) => plan.projectId),
            )
            .executeTakeFirst();
          return row ? true : undefined;
        },
        WORKER_WAIT_MS,
        'a first hold',
      );
      await kill(first);
      const killedWith = await Promise.all(plans.map((plan) => projectStatus(t, plan.projectId)));
      const second = startWorker();
      const statuses = await eventually(
        async () => {
          const all = await Promise.all(plans.map((plan) => projectStatus(t, plan.projectId)));
          return all.includes('VENUES_ARRANGING') ? undefined : all;
        },
        WORKER_WAIT_MS,
        'every arrangement to settle after the crash',
      );
      expect(killedWith).toContain('VENUES_ARRANGING');
      expect(statuses.every((status) => status === 'VENUES_CONFIRMED' || status === 'FILED')).toBe(true);
      for (const plan of plans) await allOrNone(t, plan.projectId);
      const invariants = await seatInvariants(t);
      expect(invariants).toMatchObject({ doubleBooked: 0, disagreeing: 0 });
      expect(invariants.seatsHeld).toBe(invariants.seatsOfLiveBookings);
      await stop(second);
    },
    3 * WORKER_WAIT_MS,
  );
});
