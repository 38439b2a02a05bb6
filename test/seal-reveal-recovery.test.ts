// The seed's reveal survives a start of the evaluation that stopped between the state change and the unsealing: the
// completion finishes both (the committee unsealed, DRAW_SEED_REVEALED on the timeline before EVALUATION_COMPLETED).
import { startTestHub, type TestHub } from './support/hub';
import {
  advanceFee,
  arrangeConfirmed,
  checkInAll,
  completeEvaluation,
  confirmCommittee,
  file,
  submit,
} from './support/workflow';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

it('unseals and records the seed at the completion when the start stopped before doing it', async () => {
  const startsAt = new Date(Date.now() + 30 * 60_000);
  const projectId = await submit(t, { startsAt, endsAt: new Date(startsAt.getTime() + 4 * 3_600_000) });
  await file(t, projectId);
  await arrangeConfirmed(t, projectId);
  await advanceFee(t, projectId);
  await checkInAll(t, await confirmCommittee(t, projectId));
  // The start's state change committed, and the process stopped before unsealCommittee.
  await t.hub.services.projects.transition(projectId, {
    to: 'IN_EVALUATION',
    from: ['COMMITTEE_CONFIRMED'],
    kind: 'EVALUATION_STARTED',
    actor: 'test',
    detail: 'stopped before unsealing',
    data: {},
  });
  const [before] = await t.databases.experts.db
    .selectFrom('draw')
    .select(['id', 'seed', 'unsealed_at'])
    .where('project_id', '=', projectId)
    .execute();
  expect(before.unsealed_at).toBeNull();

  await completeEvaluation(t, projectId);
  const [after] = await t.databases.experts.db
    .selectFrom('draw')
    .select(['unsealed_at'])
    .where('project_id', '=', projectId)
    .execute();
  expect(after.unsealed_at).not.toBeNull();
  const events = await t.hub.services.projects.eventsOfProjects([projectId]);
  const kinds = events.map((event) => event.kind);
  const revealed = events.filter((event) => event.kind === 'DRAW_SEED_REVEALED');
  expect(revealed.map((event) => event.data)).toEqual([
    expect.objectContaining({ drawId: before.id, seed: before.seed }),
  ]);
  expect(kinds.indexOf('DRAW_SEED_REVEALED')).toBeLessThan(kinds.indexOf('EVALUATION_COMPLETED'));
}, 120_000);
