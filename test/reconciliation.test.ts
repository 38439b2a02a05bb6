// Provincial reconciliation: runReconciliation queues a job that reads the range through the gateway and lists every
// discrepancy; reports of one range never run at once; the schedules are registered once however many workers start.
import { createJobHandlers, jobSchedules } from '../jobs/handlers';
import { nightlyRange, RECONCILE_NIGHTLY, RECONCILE_UPCOMING, upcomingRange } from '../jobs/reconciliation';
import { startJobs, type JobsRuntime } from '../jobs/runtime';
import type { HubConfig } from '../lib/config';
import { DB_ERRORS, sqlState } from '../lib/db';
import { createServices, outboxSources } from '../app/hub';
import { createLogger } from '../lib/logger';
import {
  HOST,
  insertBookings,
  insertDraws,
  insertLedger,
  insertProjects,
  PARTNER,
  roomsOf,
  seedEveryDiscrepancy,
} from './support/reconciliation-fixture';
import { as, eventually, startTestHub, type TestHub } from './support/hub';

let t: TestHub;
let config: HubConfig;
const runtimes: JobsRuntime[] = [];

/** A jobs process of the test's own: the hub's gateway port is known only once it listens. */
function startWorkers(): JobsRuntime {
  const logger = createLogger('test', config.LOG_LEVEL);
  const runtime = startJobs({
    config,
    logger,
    outboxes: outboxSources(t.databases),
    handlers: createJobHandlers(createServices(config, logger, t.databases)),
  });
  runtimes.push(runtime);
  return runtime;
}

beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  config = { ...t.config, GATEWAY_URL: t.hub.gateway.url };
  startWorkers();
});
afterAll(async () => {
  for (const runtime of runtimes) await runtime.stop();
  await t.stop();
});

const REPORT = `query($id: ID!) { reconciliationReport(id: $id) { id from to status generatedAt failureReason
  discrepancies { kind projectId projectCode bookingId seatId ledgerEntryId platformId resolution detail } } }`;
const RUN = `mutation($from: DateTime!, $to: DateTime!) { runReconciliation(from: $from, to: $to) { id status from to } }`;

interface Found {
  kind: string;
  projectId: string | null;
  projectCode: string | null;
  bookingId: string | null;
  seatId: string | null;
  ledgerEntryId: string | null;
  resolution: string;
  detail: string;
}
interface Report {
  id: string;
  status: string;
  failureReason: string | null;
  discrepancies: Found[];
}

async function reconcile(from: string, to: string): Promise<Report> {
  const run = await t.graphql<{ runReconciliation: { id: string; status: string } }>(as.admin, RUN, { from, to });
  expect(run.errors).toBeUndefined();
  expect(run.data!.runReconciliation.status).toBe('PENDING');
  const report = await eventually(
    async () => {
      const response = await t.graphql<{ reconciliationReport: Report }>(as.admin, REPORT, {
        id: run.data!.runReconciliation.id,
      });
      const current = response.data?.reconciliationReport;
      return current && ['DONE', 'FAILED'].includes(current.status) ? current : undefined;
    },
    // A province-size report on a loaded 2-core machine can take more than half a minute; the bound only ends the wait.
    120_000,
    'the report to be done',
  );
  return report;
}

it('lists exactly one discrepancy of every kind, and none for the clean project', async () => {
  const [host] = await roomsOf(t.databases, HOST);
  const [partner] = await roomsOf(t.databases, PARTNER);
  const day = new Date('2027-04-06T00:00:00+08:00');
  const expected = await seedEveryDiscrepancy(t.databases, day, { host, partner });

  const report = await reconcile('2027-04-05T00:00:00+08:00', '2027-04-12T00:00:00+08:00');
  expect(report.failureReason).toBeNull();
  expect(report.status).toBe('DONE');
  const listed = report.discrepancies.map((item) => ({
    kind: item.kind,
    projectCode: item.projectCode,
    target: item.seatId ?? item.ledgerEntryId ?? item.bookingId ?? item.projectId,
  }));
  expect(listed).toEqual(expected);
  expect(report.discrepancies.some((item) => item.projectCode === 'REC-CLEAN')).toBe(false);
  // Each names the mutation that would resolve it, in the detail an admin reads.
  for (const item of report.discrepancies) expect(item.detail).toContain(item.resolution.split(' ')[0]);
  const byKind = Object.fromEntries(report.discrepancies.map((item) => [item.kind, item]));
  expect(byKind.EXPIRED_HOLD.detail).toMatch(/confirmBooking or rejectBooking/);
  expect(byKind.INCOMPLETE_COMMITTEE.detail).toMatch(/3 of 5 .*replaceCommitteeMember/);
  expect(byKind.SEAT_WITHOUT_CONFIRMED_BOOKING.bookingId).toBe('bk-rec-seat-secondary');

  const latest = await t.graphql<{ latestReconciliationReport: { id: string } }>(
    as.admin,
    '{ latestReconciliationReport { id } }',
  );
  expect(latest.data!.latestReconciliationReport.id).toBe(report.id);
});

it('is for provincial admins only, and refuses a backwards or overlong range', async () => {
  const refused = await t.graphql(as.operator(), RUN, {
    from: '2027-04-05T00:00:00+08:00',
    to: '2027-04-06T00:00:00+08:00',
  });
  expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  const backwards = await t.graphql(as.admin, RUN, {
    from: '2027-04-06T00:00:00+08:00',
    to: '2027-04-05T00:00:00+08:00',
  });
  expect(backwards.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
  const overlong = await t.graphql(as.admin, RUN, {
    from: '2027-01-01T00:00:00+08:00',
    to: '2027-12-01T00:00:00+08:00',
  });
  expect(overlong.errors?.[0].message).toMatch(/at most 92 days/);
  expect(
    await t.databases.projects.db
      .selectFrom('reconciliation_report')
      .select('id')
      .where('from_at', '=', new Date('2027-01-01T00:00:00+08:00'))
      .execute(),
  ).toEqual([]);
});

it('never runs two reports of the same range at once', async () => {
  const range = { from: '2027-05-01T00:00:00+08:00', to: '2027-05-02T00:00:00+08:00' };
  // Ten admins at once: one report, one job; the others are handed the report under way.
  const answers = await Promise.all(
    Array.from({ length: 10 }, () => t.graphql<{ runReconciliation: { id: string } }>(as.admin, RUN, range)),
  );
  const ids = new Set(answers.map((answer) => answer.data!.runReconciliation.id));
  expect(ids.size).toBe(1);
  // The database itself refuses a second waiting or running report of the range (the index, not the code above).
  const attack = await Promise.allSettled(
    ['rec-attack-1', 'rec-attack-2'].map((id) =>
      t.databases.projects.db
        .insertInto('reconciliation_report')
        .values({
          id,
          from_at: new Date('2027-06-01T00:00:00Z'),
          to_at: new Date('2027-06-02T00:00:00Z'),
          status: 'RUNNING',
          trigger: 'ON_DEMAND',
          requested_by: 'test',
          failure_reason: null,
          started_at: new Date(),
          generated_at: null,
        })
        .execute(),
    ),
  );
  expect(attack.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
  const rejected = attack.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  expect(sqlState(rejected!.reason)).toBe(DB_ERRORS.uniqueViolation);
  // Once done, the range may be reconciled again: a new report.
  const [id] = [...ids];
  await eventually(async () =>
    (await t.graphql<{ reconciliationReport: Report }>(as.admin, REPORT, { id })).data?.reconciliationReport.status ===
    'DONE'
      ? true
      : undefined,
  );
  const again = await t.graphql<{ runReconciliation: { id: string } }>(as.admin, RUN, range);
  expect(again.data!.runReconciliation.id).not.toBe(id);
});

it('registers the hourly and nightly schedules once however many workers start', async () => {
  expect(jobSchedules(config).filter((schedule) => schedule.queue === 'reconciliation')).toEqual([
    { queue: 'reconciliation', id: RECONCILE_UPCOMING, pattern: '0 * * * *', tz: 'Asia/Shanghai' },
    { queue: 'reconciliation', id: RECONCILE_NIGHTLY, pattern: '30 2 * * *', tz: 'Asia/Shanghai' },
  ]);
  const more = [startWorkers(), startWorkers(), startWorkers()];
  // Every worker of the test, the first one included, has upserted its schedulers: what is registered now is final.
  await Promise.all(runtimes.map((runtime) => runtime.schedulesRegistered()));
  const final = await more[0].queues.reconciliation.getJobSchedulers();
  expect(final.map((scheduler) => [scheduler.key, scheduler.pattern]).sort()).toEqual([
    [RECONCILE_NIGHTLY, '30 2 * * *'],
    [RECONCILE_UPCOMING, '0 * * * *'],
  ]);
  // One pending run of each, not one per worker.
  const delayed = await more[0].queues.reconciliation.getDelayed();
  expect(delayed.map((job) => job.name).sort()).toEqual([RECONCILE_NIGHTLY, RECONCILE_UPCOMING]);
});

it('ranges: the next 14 days from the hour, and the past day in China Standard Time', () => {
  expect(upcomingRange(new Date('2027-04-06T03:25:10Z'))).toEqual({
    from: new Date('2027-04-06T03:00:00Z'),
    to: new Date('2027-04-20T03:00:00Z'),
  });
  // 02:30 on 7 April in UTC+8 is 18:30 on 6 April UTC: the past day is 6 April in UTC+8.
  expect(nightlyRange(new Date('2027-04-06T18:30:00Z'))).toEqual({
    from: new Date('2027-04-05T16:00:00Z'),
    to: new Date('2027-04-06T16:00:00Z'),
  });
});

it('reconciles a province-size range (1,000 projects over every platform, 14 days) and finds nothing wrong in it', async () => {
  const platforms = await t.databases.venues.db
    .selectFrom('platform')
    .select(['id', 'parent_id'])
    .where('parent_id', 'is not', null)
    .orderBy('id')
    .execute();
  const roomsByPlatform = new Map<string, string[]>();
  for (const platform of platforms) roomsByPlatform.set(platform.id, await roomsOf(t.databases, platform.id));
  const agreements = await t.databases.venues.db.selectFrom('cooperation_agreement').selectAll().execute();
  const hosts = platforms.filter((platform) => (roomsByPlatform.get(platform.id) ?? []).length > 0);
  const start = new Date('2027-08-01T00:00:00+08:00').getTime();
  const projects = [];
  const bookings = [];
  const draws = [];
  const ledger = [];
  const seatedAt = new Map<number, number>();
  const secondaries: {
    index: number;
    id: string;
    host: string;
    partner: string | undefined;
    startsAt: Date;
    endsAt: Date;
  }[] = [];
  for (let index = 0; index < 1000; index++) {
    const host = hosts[index % hosts.length];
    const partner = agreements.find(
      (row) => row.platform_id === host.id && (roomsByPlatform.get(row.partner_id) ?? []).length > 0,
    )?.partner_id;
    const hostRooms = roomsByPlatform.get(host.id)!;
    // Each host room takes one 4-hour project per quarter day, so no room is booked twice at once and all fit in the range.
    const slot = Math.floor(index / hosts.length);
    const room = hostRooms[slot % hostRooms.length];
    const startsAt = new Date(start + Math.floor(slot / hostRooms.length) * 6 * 3600_000 + 3600_000);
    const endsAt = new Date(startsAt.getTime() + 4 * 3600_000);
    const id = `prj-scale-${index}`;
    projects.push({
      id,
      code: `SCALE-${index}`,
      status: 'IN_EVALUATION' as const,
      startsAt,
      endsAt,
      host: host.id,
      committeeSize: 5,
    });
    bookings.push({
      id: `bk-scale-${index}-main`,
      projectId: id,
      roomId: room,
      role: 'MAIN' as const,
      status: 'CONFIRMED' as const,
      startsAt,
      endsAt,
      host: host.id,
    });
    // Projects of one start overlap, so each takes experts no other project of that start has (the hub never seats an
    // expert twice at once); windows of different starts are 6 hours apart and do not overlap.
    const sameStart = seatedAt.get(startsAt.getTime()) ?? 0;
    seatedAt.set(startsAt.getTime(), sameStart + 1);
    const seats = Array.from({ length: 5 }, (_, seat) => ({
      id: `seat-scale-${index}-${seat}`,
      bookingId: `bk-scale-${index}-main`,
      roomId: room,
      status: 'CHECKED_IN' as const,
      expertId: `exp-${String(sameStart * 5 + seat + 1).padStart(5, '0')}`,
    }));
    draws.push({ projectId: id, startsAt, endsAt, seats });
    secondaries.push({ index, id, host: host.id, partner, startsAt, endsAt });
  }
  // Partner rooms are shared by the hosts of one start: each secondary takes a seat the mains and earlier secondaries
  // left in one of the partner's rooms, or the project goes without one (and without a partner payable).
  const seatsOf = new Map(
    (await t.databases.venues.db.selectFrom('room').select(['id', 'seats']).execute()).map((row) => [
      row.id,
      row.seats,
    ]),
  );
  const held = new Map<string, number>();
  const take = (roomId: string, at: Date, seats: number) =>
    held.set(`${roomId}@${at.getTime()}`, (held.get(`${roomId}@${at.getTime()}`) ?? 0) + seats);
  for (const booking of bookings) take(booking.roomId, booking.startsAt, 3);
  for (const { index, id, host, partner, startsAt, endsAt } of secondaries) {
    const partnerRooms = partner ? roomsByPlatform.get(partner)! : [];
    const roomId = partnerRooms
      .map((_, offset) => partnerRooms[(index + offset) % partnerRooms.length])
      .find((candidate) => (held.get(`${candidate}@${startsAt.getTime()}`) ?? 0) + 1 <= seatsOf.get(candidate)!);
    if (roomId) {
      take(roomId, startsAt, 1);
      bookings.push({
        id: `bk-scale-${index}-secondary`,
        projectId: id,
        roomId,
        role: 'SECONDARY' as const,
        status: 'CONFIRMED' as const,
        startsAt,
        endsAt,
        host,
        seats: 1,
      });
    }
    ledger.push({ projectId: id, host, partner: roomId ? partner : undefined });
  }
  await insertProjects(t.databases, projects);
  await insertBookings(t.databases, bookings);
  await insertDraws(t.databases, draws);
  await insertLedger(t.databases, ledger);

  const report = await reconcile('2027-08-01T00:00:00+08:00', '2027-08-15T00:00:00+08:00');
  expect(report.status).toBe('DONE');
  expect(report.discrepancies).toEqual([]);
}, 180_000);
