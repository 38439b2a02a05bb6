// An invitation unanswered within INVITE_TTL counts as declined: the seat is replaced by the next round of its group,
// and the expert who let it lapse is never drawn again for the project. No real timer is raced: the workers read a
// test clock, which the test moves past the answers' due time, and the invitations' timeout jobs (delayed by
// INVITE_TTL in Redis) are promoted to run now, which is what their delay running out would do.
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import { TestClock } from './support/clock';
import { DRAW, drawSettled, feeAdvancedProject, HOST, roomsOf, seatsOf } from './support/expert-draw';

const INVITE_TTL_MS = 15 * 60_000;
const clock = new TestClock();
let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ overrides: { INVITE_TTL: '15m' }, clock });
});

/** Runs now the timeout jobs of these seats' invitations, as if INVITE_TTL had passed in Redis too. */
async function timeoutsRunNow(seatIds: string[]): Promise<void> {
  const queue = t.hub.jobs!.queues['expert-draws'];
  const timeouts = await eventually(
    async () => {
      const delayed = (await queue.getDelayed()).filter(
        (job) => job.name === 'invitation-timeout' && seatIds.includes((job.data as { seatId: string }).seatId),
      );
      return delayed.length === seatIds.length ? delayed : undefined;
    },
    15_000,
    "the invitations' timeout jobs",
  );
  // A retry whose back-off ran out between the look and the promotion is already on its way: nothing to promote.
  await Promise.all(
    timeouts.map((job) =>
      job.promote().catch((error: unknown) => {
        if (!(error instanceof Error && /not in the delayed state|delayed/i.test(error.message))) throw error;
      }),
    ),
  );
}
afterAll(async () => {
  await t.stop();
});

it('declines a lapsed invitation and draws its replacement in the next round, never redrawing the lapsed expert', async () => {
  const [room] = await roomsOf(t, HOST);
  const projectId = await feeAdvancedProject(t, {
    mode: 'LOCAL',
    bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
  });
  const response = await t.graphql(as.operator(HOST), DRAW, {
    projectId,
    seats: [{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 4 }],
  });
  expect(response.errors).toBeUndefined();
  const draw = await drawSettled(t, projectId);
  const first = await seatsOf(t, draw.id);
  // One expert answers in time; the other three let their invitations lapse.
  const accepted = await t.graphql(
    as.expert(first[0].expert_id!),
    `mutation($id: ID!) { respondToInvitation(seatId: $id, accept: true) { status } }`,
    { id: first[0].id },
  );
  expect(accepted.errors).toBeUndefined();

  const lapsed = first.slice(1);
  // Run before the due time, a timeout changes nothing: the job fails and is retried later.
  const queue = t.hub.jobs!.queues['expert-draws'];
  await timeoutsRunNow([lapsed[0].id]);
  const early = await eventually(
    async () => {
      const job = (await queue.getJobs(['delayed', 'failed'])).find(
        (candidate) =>
          candidate.name === 'invitation-timeout' &&
          (candidate.data as { seatId: string }).seatId === lapsed[0].id &&
          candidate.attemptsMade > 0,
      );
      return job ?? undefined;
    },
    15_000,
    'the early timeout to be refused',
  );
  expect(early.failedReason).toContain('not due yet');
  expect((await seatsOf(t, draw.id)).find((seat) => seat.id === lapsed[0].id)!.status).toBe('INVITED');

  clock.advance(INVITE_TTL_MS + 1000);
  await timeoutsRunNow(first.map((seat) => seat.id));
  const replacements = await eventually(
    async () => {
      const seats = await seatsOf(t, draw.id);
      const replaced = lapsed.map((seat) => seats.find((other) => other.replaces_seat_id === seat.id));
      // The job puts a replacement on the timeline just after committing its seat: wait for both.
      const drawn = (await t.hub.services.projects.eventsOfProjects([projectId])).filter(
        (event) => event.kind === 'EXPERT_REPLACEMENT_DRAWN',
      );
      return replaced.every((seat) => seat?.invited_at) && drawn.length >= lapsed.length
        ? { seats, replaced }
        : undefined;
    },
    15_000,
    'the lapsed invitations to be replaced',
  );
  await t.hub.services.experts.withdrawProjectSeats(projectId, 'test over');

  const { seats } = replacements;
  for (const seat of lapsed) {
    const now = seats.find((other) => other.id === seat.id)!;
    expect(now.status).toBe('DECLINED');
    expect(now.reason).toContain('INVITE_TTL');
  }
  expect(seats.find((seat) => seat.id === first[0].id)!.status).not.toBe('DECLINED');
  for (const replacement of replacements.replaced) expect(replacement!.round).toBeGreaterThanOrEqual(2);
  // Every expert who let an invitation lapse is missing from every candidate list of the replacement rounds (each drawn
  // after the lapse, in the group's rounds past the first) and from every other seat.
  const rounds = await t.hub.services.experts.roundsOfDraw(draw.id);
  const replacementRounds = rounds.filter((round) => round.round >= 2 && round.outcome === 'SEATED');
  expect(replacementRounds.length).toBeGreaterThanOrEqual(lapsed.length);
  for (const decliner of lapsed) {
    for (const round of replacementRounds) expect(round.candidates).not.toContain(decliner.expert_id);
    expect(seats.filter((seat) => seat.expert_id === decliner.expert_id)).toHaveLength(1);
  }
  expect((await t.hub.services.experts.verifyDraw(draw.id)).matches).toBe(true);
  const timeline = await t.hub.services.projects.eventsOfProjects([projectId]);
  expect(timeline.filter((event) => event.kind === 'EXPERT_REPLACEMENT_DRAWN').length).toBeGreaterThanOrEqual(3);
});
