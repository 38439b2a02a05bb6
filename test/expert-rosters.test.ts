// The rosters a process keeps between draws (subgraphs/experts/eligibility.ts, migration 010): a draw's candidates
// from a kept roster are exactly those of a fresh read, whatever the pool did in between: experts added, moved,
// given or stripped of a specialty, a writer that rolled back, and writers racing the reads.
import { sql, type Kysely } from 'kysely';
import {
  AVOIDANCE_GROUND_NAMES,
  avoidedOn,
  eligibleExperts,
  hostCandidatesOf,
  joinedIdsOf,
  RosterCache,
  withoutSeated,
  type EligibilityFacts,
  type EligibilityGroup,
  type EligibilityQuery,
} from '../subgraphs/experts/eligibility';
import { selectRound, SelectionStream } from '../subgraphs/experts/selection';
import type { ExpertsDatabase } from '../subgraphs/experts/types';
import { startTestHub, type TestHub } from './support/hub';

let t: TestHub;
let db: Kysely<ExpertsDatabase>;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  db = t.databases.experts.db;
});
afterAll(async () => {
  await t.stop();
});

const DAY = 86_400_000;
const SPECIALTY = `ROSTER_${process.pid}`;
const startsAt = new Date(Date.now() + 60 * DAY);
const facts: EligibilityFacts = {
  projectId: 'prj-rosters',
  tenderer: '测试招标人示例公司',
  agency: '测试代理示例公司',
  bidders: ['测试投标人甲示例公司'],
  department: 'TRANSPORT',
  hostRegion: ['411700', '411702', '411721'],
  mode: 'REMOTE',
  startsAt: startsAt.toISOString(),
  endsAt: new Date(startsAt.getTime() + 8 * 3_600_000).toISOString(),
  // The main room takes any home; the secondary rooms only their city's subtree.
  pools: { main: null, luoyang: ['410300', '410322', '410323'], nanyang: ['411300', '411321'] },
};
const query = (): EligibilityQuery => ({ ...facts, now: new Date(), drawLimit30d: 3 });

/** The groups of one specialty: the main room and two secondary venues. */
const groupsOf = (specialty: string): EligibilityGroup[] =>
  ['main', 'luoyang', 'nanyang'].map((group_key) => ({ group_key, specialty }));

/**
 * The definition the draw implements, as one plain query per group: holds the specialty, lives in the group's pool,
 * avoided on no ground.
 */
async function byDefinition(
  on: Kysely<ExpertsDatabase>,
  q: EligibilityQuery,
  group: EligibilityGroup,
): Promise<string[]> {
  const pool = q.pools[group.group_key] ?? null;
  const { rows } = await sql<{ id: string }>`select e.id from expert e
    where e.specialties @> array[${group.specialty}]::text[]
      and ${pool === null ? sql`true` : sql`e.home_platform_id = any(${pool}::text[])`}
      and not ${avoidedOn(q, AVOIDANCE_GROUND_NAMES)}`.execute(on);
  return rows.map((row) => row.id).sort();
}

/** What eligibleExperts answers, as plain lists: each group's candidates, and the host-region experts among them. */
async function listed(on: Kysely<ExpertsDatabase>, groups: EligibilityGroup[], cache?: RosterCache) {
  const eligible = await eligibleExperts(on, query(), groups, cache);
  return Object.fromEntries(
    groups.map((group) => {
      const { candidates, hostRegion } = eligible.get(group.group_key)!;
      return [group.group_key, { candidates, host: candidates.filter((id) => hostRegion.has(id)) }];
    }),
  );
}

async function expertsOf(specialty: string): Promise<string[]> {
  const rows = await db
    .selectFrom('expert')
    .select('id')
    .where(sql<boolean>`specialties @> array[${specialty}]::text[]`)
    .orderBy('id')
    .execute();
  return rows.map((row) => row.id);
}

let added = 0;
/** A new expert of the test's specialty. */
const newExpert = (home: string) => {
  const id = `exp-roster-${process.pid}-${++added}`;
  return {
    id,
    code: id,
    name: '测试专家',
    phone: '13800000000',
    home_platform_id: home,
    specialties: [SPECIALTY, 'LEGAL'],
    employer: '测试单位',
  };
};

describe('a kept roster', () => {
  it('gives, for every specialty of the pool, the lists of the definition, kept or read afresh', async () => {
    const cache = new RosterCache();
    const specialties = (
      await sql<{ s: string }>`select distinct unnest(specialties) as s from expert`.execute(db)
    ).rows
      .map((row) => row.s)
      .sort();
    expect(specialties.length).toBeGreaterThanOrEqual(5);
    for (const specialty of specialties) {
      const groups = groupsOf(specialty);
      const kept = await listed(db, groups, cache);
      // A second call answers from the kept roster.
      expect(await listed(db, groups, cache)).toEqual(kept);
      expect(await listed(db, groups)).toEqual(kept);
      for (const group of groups)
        expect(kept[group.group_key].candidates).toEqual(await byDefinition(db, query(), group));
      const host = new Set(
        (await db.selectFrom('expert').select('id').where('home_platform_id', 'in', facts.hostRegion).execute()).map(
          (row) => row.id,
        ),
      );
      expect(kept.main.host).toEqual(kept.main.candidates.filter((id) => host.has(id)));
    }
  });

  it("gives each list's bytes and host-region experts as its ids say, cut from the roster or not, before and after seats are taken out", async () => {
    const cache = new RosterCache();
    for (const specialty of ['LEGAL', 'CIVIL_ENGINEERING']) {
      const eligible = await eligibleExperts(db, query(), groupsOf(specialty), cache);
      for (const list of eligible.values()) {
        expect(list.candidates.length).toBeGreaterThan(0);
        const seats = list.candidates
          .filter((_, i) => i % 5 === 0)
          .map((expert_id, i) => ({
            expert_id,
            live: i % 2 === 0,
            status: i % 2 === 0 ? ('INVITED' as const) : ('DECLINED' as const),
          }));
        for (const each of [list, withoutSeated(list, seats)]) {
          expect(joinedIdsOf(each.candidates).toString('utf8')).toBe(each.candidates.join('\n'));
          expect(hostCandidatesOf(each.candidates, each.hostRegion)).toEqual(
            each.candidates.filter((id) => each.hostRegion.has(id)),
          );
        }
        expect(withoutSeated(list, seats).candidates).toEqual(
          list.candidates.filter((id) => !seats.some((seat) => seat.expert_id === id)),
        );
      }
    }
    expect(joinedIdsOf([]).length).toBe(0);
    expect(joinedIdsOf(['exp-1']).toString()).toBe('exp-1');
  });

  it('is read again after an expert joins, moves, or gains or loses the specialty', async () => {
    const cache = new RosterCache();
    const groups = groupsOf(SPECIALTY);
    const seen = async () => {
      const kept = await listed(db, groups, cache);
      expect(kept).toEqual(await listed(db, groups));
      return kept;
    };
    expect((await seen()).main.candidates).toEqual([]);

    const [luoyang, nanyang] = [newExpert('410300'), newExpert('411300')];
    await db.insertInto('expert').values([luoyang, nanyang]).execute();
    expect((await seen()).luoyang.candidates).toEqual([luoyang.id]);

    await db.updateTable('expert').set({ home_platform_id: '411700' }).where('id', '=', luoyang.id).execute();
    const moved = await seen();
    expect(moved.luoyang.candidates).toEqual([]);
    expect(moved.main.host).toEqual([luoyang.id]);

    const existing = (await expertsOf('LEGAL')).filter((id) => !id.startsWith('exp-roster-')).slice(0, 3);
    await db
      .updateTable('expert')
      .set({ specialties: sql<string[]>`specialties || array[${SPECIALTY}]::text[]` })
      .where('id', 'in', existing)
      .execute();
    expect((await seen()).main.candidates).toEqual(await byDefinition(db, query(), groups[0]));
    expect((await seen()).main.candidates).toEqual(expect.arrayContaining(existing));
    expect((await seen()).main.candidates).toEqual(expect.arrayContaining([nanyang.id, luoyang.id]));

    await db
      .updateTable('expert')
      .set({ specialties: sql<string[]>`array_remove(specialties, ${SPECIALTY})` })
      .where('id', '=', nanyang.id)
      .execute();
    expect((await seen()).main.candidates).not.toContain(nanyang.id);
    expect((await seen()).main.candidates).toEqual(await byDefinition(db, query(), groups[0]));
  });

  it('read inside a writer that then rolled back is never taken for the pool as committed', async () => {
    const cache = new RosterCache();
    const groups = groupsOf(SPECIALTY);
    const before = await listed(db, groups, cache);
    const ghost = newExpert('410300');
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('expert').values(ghost).execute();
        // The writer sees its own expert, and the cache keeps that roster under the writer's version.
        expect((await listed(trx, groups, cache)).luoyang.candidates).toContain(ghost.id);
        throw new Error('rolled back on purpose');
      }),
    ).rejects.toThrow('rolled back on purpose');
    expect(await listed(db, groups)).toEqual(before);
    // The next committed change gets a version of its own, never the rolled-back writer's (the cache still holds
    // the roster it read there).
    const real = newExpert('410300');
    await db.insertInto('expert').values(real).execute();
    const after = await listed(db, groups, cache);
    expect(after.luoyang.candidates).toContain(real.id);
    expect(after.luoyang.candidates).not.toContain(ghost.id);
    expect(after).toEqual(await listed(db, groups));
  });

  it('answers as a fresh read of the same snapshot while writers add, move and strip experts, some rolling back', async () => {
    const cache = new RosterCache();
    const groups = groupsOf(SPECIALTY);
    let writing = true;
    let mismatches = 0;
    let reads = 0;
    const writer = async (n: number) => {
      for (let i = 0; i < 12; i++) {
        const fresh = newExpert(i % 2 ? '410300' : '411300');
        await db
          .transaction()
          .execute(async (trx) => {
            await trx.insertInto('expert').values(fresh).execute();
            const others = await trx
              .selectFrom('expert')
              .select('id')
              .where('id', 'like', 'exp-roster-%')
              .orderBy('id')
              .execute();
            const other = others[(i * 7 + n) % others.length].id;
            if (i % 3 === 0)
              await trx
                .updateTable('expert')
                .set({ home_platform_id: i % 2 ? '410322' : '411700' })
                .where('id', '=', other)
                .execute();
            if (i % 4 === 1)
              await trx
                .updateTable('expert')
                .set({ specialties: sql<string[]>`array_remove(specialties, ${SPECIALTY})` })
                .where('id', '=', other)
                .execute();
            if (i % 5 === 2) throw new Error('rolled back on purpose');
          })
          .catch((error: Error) => {
            if (error.message !== 'rolled back on purpose') throw error;
          });
      }
    };
    // Each read is two in one snapshot (repeatable read): through the shared cache, then without it.
    const reader = async () => {
      while (writing) {
        await db
          .transaction()
          .setIsolationLevel('repeatable read')
          .execute(async (trx) => {
            const kept = await listed(trx, groups, cache);
            const fresh = await listed(trx, groups);
            reads++;
            if (JSON.stringify(kept) !== JSON.stringify(fresh)) mismatches++;
          });
      }
    };
    const readers = [reader(), reader(), reader()];
    await Promise.all([writer(1), writer(2), writer(3)]);
    writing = false;
    await Promise.all(readers);
    expect(reads).toBeGreaterThan(10);
    expect(mismatches).toBe(0);
    expect(await listed(db, groups, cache)).toEqual(await listed(db, groups));
  });
});

describe("step 7's swaps kept beside the list", () => {
  it('select exactly what swapping a copy of the list selects, and leave the list as it was', () => {
    const key = Buffer.alloc(32, 7);
    for (let n = 1; n <= 60; n += 7) {
      const candidates = Array.from({ length: n }, (_, i) => `exp-${String(i).padStart(4, '0')}`);
      const hostRegion = new Set(candidates.filter((_, i) => i % 3 === 0));
      for (const hostQuota of [null, 0, 1, 2]) {
        for (const wanted of [1, 3, Math.min(n, 5)]) {
          const input = { key, groupKey: `g-${n}`, candidates, hostRegion, hostQuota, wanted, counterStart: n };
          const before = [...candidates];
          expect(selectRound(input)).toEqual(referenceRound(input));
          expect(candidates).toEqual(before);
        }
      }
    }
  });
});

/** Step 7 written out with a copy of the list, swapped in place, and the stream of selection.ts. */
function referenceRound(input: Parameters<typeof selectRound>[0]) {
  const list = [...input.candidates];
  const stream = new SelectionStream(input.key, input.groupKey, input.counterStart);
  const selected: string[] = [];
  let host = 0;
  for (let i = 0; i < list.length && selected.length < input.wanted; i++) {
    const j = i + stream.uniform(list.length - i);
    [list[i], list[j]] = [list[j], list[i]];
    if (input.hostRegion.has(list[i]) && input.hostQuota !== null && host >= input.hostQuota) continue;
    selected.push(list[i]);
    if (input.hostRegion.has(list[i])) host++;
  }
  return { selected, counterEnd: stream.position };
}
