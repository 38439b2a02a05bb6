// An invitation unanswered within INVITE_TTL (here 1 s) counts as declined: the seat is replaced by the next round of
// its group, and the expert who let it lapse is never drawn again for the project.
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import { DRAW, drawSettled, feeAdvancedProject, HOST, roomsOf, seatsOf } from './support/expert-draw';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ overrides: { INVITE_TTL: '1s' } });
});
afterAll(async () => {
  await t.stop();
});

it('declines a lapsed invitation and draws its replacement in the next round, never redrawing the lapsed expert', async () => {
  const [room] = await roomsOf(t, HOST);
  const projectId = await feeAdvancedProject(t, { mode: 'LOCAL', bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }] });
  const response = await t.graphql(as.operator(HOST), DRAW, { projectId, seats: [{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 4 }] });
  expect(response.errors).toBeUndefined();
  const draw = await drawSettled(t, projectId);
  const first = await seatsOf(t, draw.id);
  // One expert answers in time; the other three let their invitations lapse.
  const accepted = await t.graphql(as.expert(first[0].expert_id!), `mutation($id: ID!) { respondToInvitation(seatId: $id, accept: true) { status } }`, { id: first[0].id });
  expect(accepted.errors).toBeUndefined();

  const lapsed = first.slice(1);
  const replacements = await eventually(
    async () => {
      const seats = await seatsOf(t, draw.id);
      const replaced = lapsed.map((seat) => seats.find((other) => other.replaces_seat_id === seat.id));
      // The job puts a replacement on the timeline just after committing its seat: wait for both.
      const drawn = (await t.hub.services.projects.eventsOfProjects([projectId])).filter((event) => event.kind === 'EXPERT_REPLACEMENT_DRAWN');
      return replaced.every((seat) => seat?.invited_at) && drawn.length >= lapsed.length ? { seats, replaced } : undefined;
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
  // Every expert who let an invitation lapse (or declined) is missing from every later candidate list and seat.
  const rounds = await t.hub.services.experts.roundsOfDraw(draw.id);
  const decliners = seats.filter((seat) => seat.status === 'DECLINED');
  for (const decliner of decliners) {
    const declinedAt = decliner.responded_at!;
    for (const round of rounds.filter((r) => r.created_at > declinedAt)) expect(round.candidates).not.toContain(decliner.expert_id);
    expect(seats.filter((seat) => seat.expert_id === decliner.expert_id)).toHaveLength(1);
  }
  expect((await t.hub.services.experts.verifyDraw(draw.id)).matches).toBe(true);
  const timeline = await t.hub.services.projects.eventsOfProjects([projectId]);
  expect(timeline.filter((event) => event.kind === 'EXPERT_REPLACEMENT_DRAWN').length).toBeGreaterThanOrEqual(3);
});
