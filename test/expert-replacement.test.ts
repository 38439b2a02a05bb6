// drawReplacement (issue 15, defect 8): the old seat's withdrawal and its replacement's draw share one transaction, so
// a replacement that cannot be drawn (nobody eligible left) or that meets a seat no longer live writes nothing at all.
// test/faults/replacement-crash.test.ts kills the process between the two steps.
import { codeOf } from '../lib/errors';
import { startTestHub, type TestHub } from './support/hub';
import { drawFourOf, seatsOf } from './support/expert-draw';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
});
afterAll(async () => {
  await t.stop();
});

let pools = 0;

/** A drawn committee of four from a specialty that exactly four experts (not in another call's pool) have: nobody is left to replace them. */
async function committeeOfTheWholePool() {
  const db = t.databases.experts.db;
  const specialty = `REPLACEMENT_POOL_${Math.random().toString(36).slice(2, 8).toUpperCase()}`;
  const pool = await db
    .selectFrom('expert')
    .select('id')
    .where('status', '=', 'ACTIVE')
    .where('supervision_department', 'is', null)
    .orderBy('id', 'desc')
    .offset(4 * pools++)
    .limit(4)
    .execute();
  const { draw, seats } = await drawFourOf(
    t,
    pool.map((expert) => expert.id),
    specialty,
  );
  return { draw, seats };
}

async function roundsOf(drawId: string) {
  return t.databases.experts.db
    .selectFrom('draw_round')
    .select(['group_key', 'round', 'outcome'])
    .where('draw_id', '=', drawId)
    .orderBy('round')
    .execute();
}

it('refuses with INSUFFICIENT_EXPERTS when nobody eligible is left, leaving the seat live as it was and writing no round', async () => {
  const { draw, seats } = await committeeOfTheWholePool();
  expect(seats).toHaveLength(4);
  const rounds = await roundsOf(draw.id);
  const [leaving] = seats;
  const refused = await t.hub.services.experts.drawReplacement(leaving.id, '回避').catch((error: unknown) => error);
  expect(codeOf(refused)).toBe('INSUFFICIENT_EXPERTS');
  expect(await seatsOf(t, draw.id)).toEqual(seats);
  expect(await roundsOf(draw.id)).toEqual(rounds);
});

it('refuses a seat that is no longer live with CONFLICT, changing nothing', async () => {
  const { draw, seats } = await committeeOfTheWholePool();
  const [declined] = seats;
  await t.databases.experts.db
    .updateTable('committee_seat')
    .set({ status: 'DECLINED', reason: '时间冲突', responded_at: new Date() })
    .where('id', '=', declined.id)
    .execute();
  const before = await seatsOf(t, draw.id);
  const refused = await t.hub.services.experts.drawReplacement(declined.id, '回避').catch((error: unknown) => error);
  expect(codeOf(refused)).toBe('CONFLICT');
  expect(String((refused as Error).message)).toMatch(/is DECLINED; only a live seat/);
  expect(await seatsOf(t, draw.id)).toEqual(before);
});
