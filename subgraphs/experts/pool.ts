// The province-wide pool: reading experts, listing a platform's experts for its administrators, and asking which
// experts one avoidance ground excludes.
import { sql } from 'kysely';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import { eligibilityQueryOf, type Expert, type ExpertsCore } from './core';
import { avoidedOn, type AvoidanceGround, type EligibilityFacts } from './eligibility';

export function expertsByIds(core: ExpertsCore, ids: readonly string[]): Promise<Expert[]> {
  return core.db
    .selectFrom('expert')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

/** Pool administration: the experts whose home platform is `platformId`, optionally of one specialty, by code. */
export async function listExperts(
  core: ExpertsCore,
  args: { platformId: string; specialty?: string | null; first?: number | null; after?: string | null },
): Promise<Connection<Expert>> {
  const limit = pageSize(args.first);
  const cursor = decodeCursor(args.after, 1);
  let query = core.db.selectFrom('expert').where('home_platform_id', '=', args.platformId);
  if (args.specialty) query = query.where(sql<boolean>`specialties @> array[${args.specialty}]::text[]`);
  const total = await query.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
  let page = query.selectAll();
  if (cursor) page = page.where('code', '>', String(cursor[0]));
  const rows = await page
    .orderBy('code')
    .limit(limit + 1)
    .execute();
  return toConnection(rows, limit, Number(total.count), (row) => [row.code]);
}

/** Which of these experts one avoidance ground excludes for a project (the grounds' own test hook, and a diagnosis tool). */
export async function expertsAvoidedBy(
  core: ExpertsCore,
  ground: AvoidanceGround,
  facts: EligibilityFacts,
  expertIds: readonly string[],
): Promise<string[]> {
  const query = eligibilityQueryOf(core, facts);
  const rows = await core.db
    .selectFrom('expert as e')
    .select('e.id')
    .where('e.id', 'in', expertIds.length > 0 ? [...expertIds] : [''])
    .where(avoidedOn(query, [ground]))
    .orderBy(sql`e.id collate "C"`)
    .execute();
  return rows.map((row) => row.id);
}
