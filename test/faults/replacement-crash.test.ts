// Fault (issue 15, defect 8): the process replacing a committee member dies after the old seat is written REPLACED and
// before the new seat is drawn. A child process runs the real ExpertsService.drawReplacement and SIGKILLs itself at
// that point (its last line says so); the seat must still be what it was, with no round, no replacement seat and no
// invitation written, and a second run must then replace it exactly once.
import { sql } from 'kysely';
import { startTestHub, type TestHub } from '../support/hub';
import { drawFour } from '../support/expert-draw';
import { startChild } from './support/processes';

jest.setTimeout(120_000);

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

/** What the experts database holds about a seat's replacement: the seat, the seats replacing it, the group's rounds and invitations. */
async function replacementState(seatId: string) {
  const db = t.databases.experts.db;
  const seat = await db.selectFrom('committee_seat').selectAll().where('id', '=', seatId).executeTakeFirstOrThrow();
  const replacements = await db
    .selectFrom('committee_seat')
    .selectAll()
    .where('replaces_seat_id', '=', seatId)
    .execute();
  const rounds = await db
    .selectFrom('draw_round')
    .select(['round', 'outcome'])
    .where('draw_id', '=', seat.draw_id)
    .where('group_key', '=', seat.group_key!)
    .orderBy('round')
    .execute();
  const invitations = await sql<{ count: string }>`
    select count(*) as count from outbox where name = 'invitation' and payload->>'seatId' = any(${replacements.map((row) => row.id)}::text[])`.execute(
    db,
  );
  return { seat, replacements, rounds, invitations: Number(invitations.rows[0].count) };
}

it('leaves the seat as it was when the process dies between withdrawing it and drawing its replacement', async () => {
  const { draw, seats } = await drawFour(t, 'CIVIL_ENGINEERING');
  const [leaving] = seats;
  expect(leaving.status).toBe('INVITED');
  const before = await replacementState(leaving.id);
  expect(before.replacements).toEqual([]);

  const env = {
    DATABASE_URL: t.database.url,
    REDIS_URL: t.config.REDIS_URL,
    HUB_QUEUE_PREFIX: t.config.HUB_QUEUE_PREFIX,
    REPLACE_SEAT: leaving.id,
  };
  const crashing = startChild('test/faults/support/replacement-child.ts', { ...env, FAULT_KILL_AFTER_WITHDRAWAL: '1' });
  const crash = await crashing.exited;
  // The kill fell between the two steps: the child wrote the seat REPLACED and said so just before the signal.
  expect(crash.signal).toBe('SIGKILL');
  expect(crashing.output()).toContain(
    `replacement-child: seat ${leaving.id} written REPLACED, no replacement drawn yet; SIGKILL now`,
  );
  expect(crashing.output()).not.toContain('replaced by seat');

  // Nothing of the half-done replacement survived: not the REPLACED status, not a round, not a seat, not an invitation.
  const afterCrash = await replacementState(leaving.id);
  expect(afterCrash.seat).toMatchObject({ status: 'INVITED', reason: null, responded_at: null, live: true });
  expect(afterCrash.replacements).toEqual([]);
  expect(afterCrash.rounds).toEqual(before.rounds);
  expect(afterCrash.invitations).toBe(0);

  // A second attempt (the operator asks again) replaces the seat once, in the next round of its group.
  const retry = startChild('test/faults/support/replacement-child.ts', env);
  const done = await retry.exited;
  expect({ code: done.code, output: retry.output() }).toMatchObject({ code: 0 });
  const replaced = await replacementState(leaving.id);
  expect(replaced.seat).toMatchObject({ status: 'REPLACED', reason: '突发疾病无法继续评审', live: false });
  expect(replaced.replacements).toHaveLength(1);
  expect(replaced.replacements[0]).toMatchObject({ status: 'INVITED', live: true, round: before.rounds.length + 1 });
  expect(retry.output()).toContain(`replaced by seat ${replaced.replacements[0].id}`);
  expect(replaced.invitations).toBe(1);
  expect(await t.hub.services.experts.verifyDraw(draw.id)).toMatchObject({ matches: true });
});
