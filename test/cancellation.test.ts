// Cancellation from each state leaves nothing live and the ledger balanced. For every non-terminal state the real
// workflow reaches (through the gateway, each step by its own role), a project is driven there, the host's operator
// cancels it, the cancellation job (jobs/cancellation.ts CANCELLATION_STEPS) runs to completion, and then: no live
// booking or booking seat, no live committee seat or pending draw, every ledger entry compensated by an equal reversal
// (the project's ledger nets to zero for every party), the cancellation and its releases on the timeline, the archive
// chain intact. Cancelling an ARCHIVED or CANCELLED project is CONFLICT and writes nothing. The cases run side by side
// on one hub, each project in an evaluation window of its own.
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { CANCELLATION_QUEUE, CANCELLATION_STEPS, PROJECT_CANCELLED_JOB } from '../jobs/cancellation';
import { CANCELLED_REASON } from '../subgraphs/venues';
import { eventually, jobsSettled, startTestHub, type TestHub } from './support/hub';
import {
  accept,
  advanceFee,
  archive,
  arrange,
  arrangeConfirmed,
  bookingsOf,
  CANCEL,
  checkInAll,
  CITY_ROOM,
  completeEvaluation,
  confirmCommittee,
  COUNTY_ROOM,
  draw,
  file,
  heldBooking,
  host,
  invitedSeats,
  projectStatus,
  seatsOf,
  startEvaluation,
  submit,
  verifyArchive,
} from './support/workflow';

jest.setTimeout(90_000);

let t: TestHub;
const started = Date.now();

// Far windows: a day each, 30 days out. Near windows (check-in opens an hour before the start): ten minutes each,
// one after the other from five minutes from now, so the near projects share rooms and never compete for experts.
let farDays = 0;
const farWindow = () => {
  const startsAt = new Date(Date.now() + (30 + farDays++) * 86_400_000);
  startsAt.setUTCHours(1, 0, 0, 0);
  return { startsAt, endsAt: new Date(startsAt.getTime() + 4 * 3_600_000) };
};
let nearSlots = 0;
const nearWindow = () => {
  const startsAt = new Date(Date.now() + (5 + 11 * nearSlots++) * 60_000);
  return { startsAt, endsAt: new Date(startsAt.getTime() + 10 * 60_000) };
};

/** What the project held just before its cancellation. */
interface Before {
  status: string;
  bookings: string[];
  seats: string[];
  ledgerEntries: number;
}

interface Outcome {
  projectId: string;
  before: Before;
  reason: string;
  /** From the cancelProject call to the cancellation job's completion. */
  cancelMs: number;
  jobAttempts: number;
  reachMs: number;
}

async function snapshot(projectId: string): Promise<Before> {
  const ledger = await t.databases.projects.db
    .selectFrom('ledger_entry')
    .select('id')
    .where('project_id', '=', projectId)
    .execute();
  return {
    status: await projectStatus(t, projectId),
    bookings: (await bookingsOf(t, projectId)).map((booking) => `${booking.room_id}:${booking.status}`),
    seats: (await seatsOf(t, projectId)).map((seat) => seat.status).sort(),
    ledgerEntries: ledger.length,
  };
}

/** The project's 'project-cancelled' job (its id is the outbox row's), once it completed: every step ran. */
async function cancellationJob(projectId: string) {
  const row = await eventually(
    async () =>
      (
        await sql<{
          id: string;
        }>`select id from outbox where name = ${PROJECT_CANCELLED_JOB} and payload->>'projectId' = ${projectId}`.execute(
          t.databases.projects.db,
        )
      ).rows[0],
    10_000,
    `the cancellation message of ${projectId}`,
  );
  const queue = t.hub.jobs!.queues[CANCELLATION_QUEUE];
  return eventually(
    async () => {
      const job = await queue.getJob(`projects-outbox-${row.id}`);
      if (!job) return undefined;
      const state = await job.getState();
      if (state === 'failed') throw new Error(`the cancellation job of ${projectId} failed: ${job.failedReason}`);
      // Read again once completed: the job read before its state may predate its return value.
      return state === 'completed' ? queue.getJob(job.id!) : undefined;
    },
    30_000,
    `the cancellation job of ${projectId} to complete`,
  );
}

/** Drives a project with `reach`, cancels it as the host's operator and waits for the cancellation job. */
async function cancelledFrom(label: string, reach: () => Promise<string>): Promise<Outcome> {
  const reachStarted = Date.now();
  const projectId = await reach();
  const before = await snapshot(projectId);
  const reachMs = Date.now() - reachStarted;
  const reason = `招标人撤回招标 (${label})`;
  const cancelStarted = Date.now();
  const response = await t.graphql<{ cancelProject: { status: string } }>(host, CANCEL, { id: projectId, reason });
  expect(response.errors).toBeUndefined();
  expect(response.data!.cancelProject.status).toBe('CANCELLED');
  const job = await cancellationJob(projectId);
  expect(job.returnvalue).toEqual(CANCELLATION_STEPS.map((step) => step.name));
  return { projectId, before, reason, cancelMs: Date.now() - cancelStarted, jobAttempts: job.attemptsMade, reachMs };
}

/** The live things a project may hold in each domain, and its ledger. */
async function leftovers(projectId: string) {
  const bookings = await bookingsOf(t, projectId);
  const liveSeatRows =
    bookings.length === 0
      ? []
      : await t.databases.venues.db
          .selectFrom('booking_seat')
          .select(['booking_id', 'room_id', 'seat_no'])
          .where(
            'booking_id',
            'in',
            bookings.map((booking) => booking.id),
          )
          .where('live', '=', true)
          .execute();
  const pendingArrangements = await t.databases.venues.db
    .selectFrom('arrangement')
    .select('id')
    .where('project_id', '=', projectId)
    .where('status', '=', 'PENDING')
    .execute();
  const seats = await seatsOf(t, projectId);
  const pendingDraws = await t.databases.experts.db
    .selectFrom('draw')
    .select('id')
    .where('project_id', '=', projectId)
    .where('status', '=', 'PENDING')
    .execute();
  return {
    liveBookings: bookings
      .filter((booking) => booking.status === 'HELD' || booking.status === 'CONFIRMED')
      .map((booking) => `${booking.id}:${booking.status}`),
    liveBookingSeats: liveSeatRows.length,
    pendingArrangements: pendingArrangements.length,
    liveCommitteeSeats: seats
      .filter((seat) => ['INVITED', 'ACCEPTED', 'CHECKED_IN'].includes(seat.status))
      .map((seat) => `${seat.id}:${seat.status}`),
    pendingDraws: pendingDraws.length,
  };
}

/** Every assertion of a cancelled project. */
async function expectCleanCancellation(outcome: Outcome): Promise<void> {
  const { projectId, reason } = outcome;
  expect(await projectStatus(t, projectId)).toBe('CANCELLED');
  expect(await leftovers(projectId)).toEqual({
    liveBookings: [],
    liveBookingSeats: 0,
    pendingArrangements: 0,
    liveCommitteeSeats: [],
    pendingDraws: 0,
  });

  // The ledger: every original entry has exactly one equal reversal between the same parties the other way, every
  // reversal reverses an original, and every party's net over the project's entries is zero.
  const ledger = await t.databases.projects.db
    .selectFrom('ledger_entry')
    .selectAll()
    .where('project_id', '=', projectId)
    .execute();
  const originals = ledger.filter((entry) => entry.kind !== 'REVERSAL');
  const reversals = ledger.filter((entry) => entry.kind === 'REVERSAL');
  expect(originals.every((entry) => entry.settled_at === null)).toBe(true);
  for (const entry of originals) {
    const its = reversals.filter((reversal) => reversal.reverses === entry.id);
    expect(
      its.map((reversal) => ({ payer: reversal.payer, payee: reversal.payee, amount: String(reversal.amount) })),
    ).toEqual([{ payer: entry.payee, payee: entry.payer, amount: String(entry.amount) }]);
  }
  expect(reversals.every((reversal) => originals.some((entry) => entry.id === reversal.reverses))).toBe(true);
  const net = new Map<string, bigint>();
  for (const entry of ledger) {
    net.set(entry.payee, (net.get(entry.payee) ?? 0n) + BigInt(entry.amount));
    net.set(entry.payer, (net.get(entry.payer) ?? 0n) - BigInt(entry.amount));
  }
  expect([...net].filter(([, amount]) => amount !== 0n)).toEqual([]);

  // The timeline: the cancellation, each booking it released, the reversal, the committee's release, each once.
  const events = await t.databases.projects.db
    .selectFrom('project_event')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('seq')
    .execute();
  const kinds = events.map((event) => event.kind);
  expect(kinds.filter((kind) => kind === 'CANCELLED')).toHaveLength(1);
  expect(events.find((event) => event.kind === 'CANCELLED')).toMatchObject({
    actor: expect.stringMatching(/^platform_operator@411700:/),
    detail: reason,
  });
  const released = (await bookingsOf(t, projectId)).filter(
    (booking) => booking.status === 'RELEASED' && booking.reason?.startsWith(CANCELLED_REASON),
  );
  const releaseEvents = events
    .filter((event) => event.kind === 'VENUE_RELEASED')
    .map((event) => (event.data as { bookingId: string }).bookingId);
  expect(releaseEvents.sort()).toEqual(released.map((booking) => booking.id).sort());
  expect(kinds.filter((kind) => kind === 'LEDGER_REVERSED')).toHaveLength(reversals.length > 0 ? 1 : 0);
  const withdrawn = (
    await t.databases.experts.db
      .selectFrom('committee_seat')
      .select('id')
      .where('project_id', '=', projectId)
      .where('status', '=', 'WITHDRAWN')
      .where('reason', 'like', 'project cancelled%')
      .execute()
  ).map((seat) => seat.id);
  const committeeEvents = events.filter((event) => event.kind === 'COMMITTEE_RELEASED');
  expect(committeeEvents.map((event) => [...(event.data as { seatIds: string[] }).seatIds].sort())).toEqual(
    withdrawn.length > 0 ? [withdrawn.sort()] : [],
  );
  const verification = await verifyArchive(t, projectId);
  expect(verification).toEqual({ intact: true, entries: events.length, firstBrokenEntry: null });
}

/** Every table of the three schemas, counted and hashed row by row. */
async function fingerprint(): Promise<string> {
  const db = t.databases.projects.db;
  const tables = await sql<{ schema: string; table: string }>`
    select table_schema as schema, table_name as table from information_schema.tables
    where table_schema in ('venues', 'experts', 'projects') and table_type = 'BASE TABLE' order by 1, 2`.execute(db);
  const parts = tables.rows.map(
    ({ schema, table }) =>
      sql`select ${`${schema}.${table}`} as name, count(*)::text as count, coalesce(sum(hashtextextended(t::text, 0)), 0)::text as digest from ${sql.table(`${schema}.${table}`)} t`,
  );
  const result = await parts.reduce((all, part) => sql`${all} union all ${part}`).execute(db);
  return createHash('sha256').update(JSON.stringify(result.rows)).digest('hex');
}

/** Waits until the jobs stop writing: the queues idle and every outbox relayed, twice with nothing finished between. */
const quiet = () => jobsSettled(t);

// Each state is reached by the steps of the one before it, so the cases share these prefixes of the workflow.
type Window = ReturnType<typeof farWindow>;
async function filed(window: Window): Promise<string> {
  const id = await submit(t, window);
  await file(t, id);
  return id;
}
async function feeAdvanced(window: Window): Promise<string> {
  const id = await filed(window);
  await arrangeConfirmed(t, id);
  await advanceFee(t, id);
  return id;
}
async function inEvaluation(): Promise<string> {
  const id = await feeAdvanced(nearWindow());
  await checkInAll(t, await confirmCommittee(t, id));
  await startEvaluation(t, id);
  return id;
}

const cases: Record<string, () => Promise<string>> = {
  SUBMITTED: () => submit(t, farWindow()),
  FILED: () => filed(farWindow()),
  // The county confirmed on its own; Zhengzhou's operator has not decided: one CONFIRMED and one HELD booking.
  'VENUES_ARRANGING (a partner deciding by hand)': async () => {
    const id = await filed(farWindow());
    await arrange(t, id, [
      { roomId: COUNTY_ROOM, seats: 2 },
      { roomId: CITY_ROOM, seats: 2 },
    ]);
    await heldBooking(t, id, CITY_ROOM);
    await eventually(
      async () =>
        (await bookingsOf(t, id)).filter((booking) => booking.status === 'CONFIRMED').length === 2 ? true : undefined,
      30_000,
      'the auto-confirmed holds',
    );
    return id;
  },
  // Cancelled as soon as arrangeVenues answers: the saga's jobs run after (or while) the cancellation's.
  'VENUES_ARRANGING (saga not yet run)': async () => {
    const id = await filed(farWindow());
    await arrange(t, id, [{ roomId: COUNTY_ROOM, seats: 2 }]);
    return id;
  },
  VENUES_CONFIRMED: async () => {
    const id = await filed(farWindow());
    await arrangeConfirmed(t, id);
    return id;
  },
  FEE_ADVANCED: () => feeAdvanced(farWindow()),
  // Cancelled as soon as drawExperts answers: the draw job runs after (or while) the cancellation's.
  'EXPERTS_DRAWING (draw not yet run)': async () => {
    const id = await feeAdvanced(farWindow());
    await draw(t, id);
    return id;
  },
  'EXPERTS_DRAWING (two seats accepted, two invited)': async () => {
    const id = await feeAdvanced(farWindow());
    await draw(t, id);
    await accept(t, (await invitedSeats(t, id)).slice(0, 2));
    return id;
  },
  COMMITTEE_CONFIRMED: async () => {
    const id = await feeAdvanced(farWindow());
    await confirmCommittee(t, id);
    return id;
  },
  'IN_EVALUATION (every member checked in)': () => inEvaluation(),
  EVALUATED: async () => {
    const id = await inEvaluation();
    await completeEvaluation(t, id);
    return id;
  },
};

/** What each case must have held when it was cancelled, so the case tests the state it names. */
const expectedBefore: Record<string, (before: Before) => void> = {
  SUBMITTED: (before) => expect(before).toEqual({ status: 'SUBMITTED', bookings: [], seats: [], ledgerEntries: 0 }),
  FILED: (before) => expect(before).toEqual({ status: 'FILED', bookings: [], seats: [], ledgerEntries: 0 }),
  'VENUES_ARRANGING (a partner deciding by hand)': (before) => {
    expect(before.status).toBe('VENUES_ARRANGING');
    expect(before.bookings.sort()).toEqual(
      [`${CITY_ROOM}:HELD`, `${COUNTY_ROOM}:CONFIRMED`, 'room-411700-1:CONFIRMED'].sort(),
    );
  },
  'VENUES_ARRANGING (saga not yet run)': (before) => expect(before.status).toBe('VENUES_ARRANGING'),
  VENUES_CONFIRMED: (before) =>
    expect(before).toMatchObject({
      status: 'VENUES_CONFIRMED',
      bookings: [`${COUNTY_ROOM}:CONFIRMED`, 'room-411700-1:CONFIRMED'].sort(),
      ledgerEntries: 0,
    }),
  FEE_ADVANCED: (before) => {
    expect(before).toMatchObject({ status: 'FEE_ADVANCED', seats: [] });
    expect(before.ledgerEntries).toBeGreaterThan(0);
  },
  'EXPERTS_DRAWING (draw not yet run)': (before) => expect(before.status).toBe('EXPERTS_DRAWING'),
  'EXPERTS_DRAWING (two seats accepted, two invited)': (before) =>
    expect(before).toMatchObject({ status: 'EXPERTS_DRAWING', seats: ['ACCEPTED', 'ACCEPTED', 'INVITED', 'INVITED'] }),
  COMMITTEE_CONFIRMED: (before) =>
    expect(before).toMatchObject({
      status: 'COMMITTEE_CONFIRMED',
      seats: ['ACCEPTED', 'ACCEPTED', 'ACCEPTED', 'ACCEPTED'],
    }),
  'IN_EVALUATION (every member checked in)': (before) =>
    expect(before).toMatchObject({
      status: 'IN_EVALUATION',
      seats: ['CHECKED_IN', 'CHECKED_IN', 'CHECKED_IN', 'CHECKED_IN'],
    }),
  EVALUATED: (before) =>
    expect(before).toMatchObject({
      status: 'EVALUATED',
      seats: ['CHECKED_IN', 'CHECKED_IN', 'CHECKED_IN', 'CHECKED_IN'],
    }),
};

const outcomes = new Map<string, Promise<Outcome>>();
let archivedProject: Promise<string>;

beforeAll(async () => {
  t = await startTestHub({ overrides: { INVITE_TTL: '10m' } });
  // Every case starts now and runs side by side; each test below waits for its own.
  for (const [label, reach] of Object.entries(cases)) {
    const outcome = cancelledFrom(label, reach);
    // Awaited by its test; a failure before then is reported there, not as an unhandled rejection.
    outcome.catch(() => undefined);
    outcomes.set(label, outcome);
  }
  archivedProject = (async () => {
    const id = await submit(t, nearWindow());
    await file(t, id);
    await arrangeConfirmed(t, id);
    await advanceFee(t, id);
    await checkInAll(t, await confirmCommittee(t, id));
    await startEvaluation(t, id);
    await completeEvaluation(t, id);
    await archive(t, id);
    return id;
  })();
  archivedProject.catch(() => undefined);
});
afterAll(async () => {
  await Promise.allSettled([...outcomes.values(), archivedProject]);
  await t.stop();

  console.log(`cancellation test: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
});

describe('cancellation from each state leaves nothing live and the ledger balanced', () => {
  it.each(Object.keys(cases))('from %s', async (label) => {
    const outcome = await outcomes.get(label)!;
    expectedBefore[label](outcome.before);
    await expectCleanCancellation(outcome);

    console.log(
      `cancelled from ${label}: reached in ${outcome.reachMs} ms holding ${JSON.stringify(outcome.before)}; cancellation job done ${outcome.cancelMs} ms after cancelProject (${outcome.jobAttempts} attempt(s))`,
    );
  });

  it('still holds once every job has run (nothing came back to life after the cancellation jobs)', async () => {
    const all = await Promise.all(outcomes.values());
    await archivedProject;
    await quiet();
    for (const outcome of all) await expectCleanCancellation(outcome);
  });
});

describe('cancelling a project that has ended', () => {
  async function expectRefusedWritingNothing(projectId: string, status: string): Promise<void> {
    expect(await projectStatus(t, projectId)).toBe(status);
    await quiet();
    const before = await fingerprint();
    const response = await t.graphql(host, CANCEL, { id: projectId, reason: '重复撤销' });
    expect(response.errors?.map((error) => error.extensions?.code)).toEqual(['CONFLICT']);
    expect(response.errors?.[0].message).toContain(status);
    expect(await fingerprint()).toBe(before);
    // Nor later: the refusal wrote no message (the outbox is in the fingerprint), so no job has anything to act on.
    await quiet();
    expect(await fingerprint()).toBe(before);
  }

  it('refuses an ARCHIVED project with CONFLICT and writes nothing', async () => {
    const projectId = await archivedProject;
    expect((await verifyArchive(t, projectId)).intact).toBe(true);
    await expectRefusedWritingNothing(projectId, 'ARCHIVED');
  });

  it('refuses an already CANCELLED project with CONFLICT and writes nothing', async () => {
    const { projectId } = await outcomes.get('FEE_ADVANCED')!;
    await expectRefusedWritingNothing(projectId, 'CANCELLED');
  });

  it('cancels once when eight cancellations race: one CANCELLED event, one cancellation job', async () => {
    const projectId = await submit(t, farWindow());
    await file(t, projectId);
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => t.graphql(host, CANCEL, { id: projectId, reason: `并发撤销 ${i}` })),
    );
    const codes = responses.map((response) => response.errors?.[0].extensions?.code ?? 'CANCELLED');
    expect(codes.filter((code) => code === 'CANCELLED')).toHaveLength(1);
    expect(codes.filter((code) => code === 'CONFLICT')).toHaveLength(7);
    const events = await t.databases.projects.db
      .selectFrom('project_event')
      .select('kind')
      .where('project_id', '=', projectId)
      .where('kind', '=', 'CANCELLED')
      .execute();
    expect(events).toHaveLength(1);
    const messages = await sql<{
      id: string;
    }>`select id from outbox where name = ${PROJECT_CANCELLED_JOB} and payload->>'projectId' = ${projectId}`.execute(
      t.databases.projects.db,
    );
    expect(messages.rows).toHaveLength(1);
    await cancellationJob(projectId);
    expect(await leftovers(projectId)).toEqual({
      liveBookings: [],
      liveBookingSeats: 0,
      pendingArrangements: 0,
      liveCommitteeSeats: [],
      pendingDraws: 0,
    });
  });
});

// A saga job can run after the cancellation's: its first attempt failed and waits for its retry, or its worker died and
// another takes it over once the lock lapses. The job is held back here (its queue paused while it is taken off,
// then put back under its own id once the cancellation job has completed) and must not leave anything live.
describe('a saga job delivered only after the cancellation job', () => {
  async function deliveredLate(
    queueName: 'venue-bookings' | 'expert-draws',
    jobName: string,
    projectId: string,
    start: () => Promise<void>,
  ) {
    const queue = t.hub.jobs!.queues[queueName];
    await queue.pause();
    let held: { id: string; data: Record<string, unknown> };
    try {
      await start();
      const job = await eventually(
        async () =>
          (await queue.getJobs(['waiting'], 0, -1)).find(
            (candidate) =>
              candidate.name === jobName && (candidate.data as { projectId?: string }).projectId === projectId,
          ),
        10_000,
        `the ${jobName} job of ${projectId}`,
      );
      held = { id: job.id!, data: job.data as Record<string, unknown> };
      await job.remove();
    } finally {
      await queue.resume();
    }
    const reason = `招标人撤回招标 (${jobName} delivered late)`;
    const cancelStarted = Date.now();
    expect((await t.graphql(host, CANCEL, { id: projectId, reason })).errors).toBeUndefined();
    const cancellation = await cancellationJob(projectId);
    const before = await snapshot(projectId);
    await queue.add(jobName, held.data, { jobId: held.id });
    await eventually(
      async () => ((await (await queue.getJob(held.id))?.getState()) === 'completed' ? true : undefined),
      30_000,
      `the late ${jobName} job to complete`,
    );
    await quiet();
    await expectCleanCancellation({
      projectId,
      before,
      reason,
      cancelMs: Date.now() - cancelStarted,
      jobAttempts: cancellation.attemptsMade,
      reachMs: 0,
    });
  }

  it("leaves nothing live when the saga's 'arrange' job runs after the cancellation", async () => {
    const projectId = await submit(t, farWindow());
    await file(t, projectId);
    await deliveredLate('venue-bookings', 'arrange', projectId, () =>
      arrange(t, projectId, [{ roomId: COUNTY_ROOM, seats: 2 }]),
    );
  });

  it("leaves nothing live when the 'draw' job runs after the cancellation", async () => {
    const projectId = await submit(t, farWindow());
    await file(t, projectId);
    await arrangeConfirmed(t, projectId);
    await advanceFee(t, projectId);
    await deliveredLate('expert-draws', 'draw', projectId, () => draw(t, projectId));
  });
});
