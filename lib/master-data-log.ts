// Change records of several domains read as one list (MASTER-DATA.md, `masterDataChanges`): each domain keeps its
// records in its own `master_data_change` table (lib/master-data-audit.ts); a reader asks every source for a slice
// after a cursor and merges them, newest first, by (at, source, id). The cursor names the last record's position in
// that order, so a page never repeats or skips a record whichever source it came from.
import { sql, type Kysely } from 'kysely';
import { badInput } from './errors';
import type { MasterDataChange, WithMasterDataChanges } from './master-data-audit';
import { decodeCursor, encodeCursor, pageSize, type Connection } from './pagination';

/** Which records: of one entity type, of one entity. */
export interface ChangeFilter {
  entityType?: string | null;
  entityId?: string | null;
}

/**
 * Where a source's slice starts, newest first: records strictly before (`at`, `id`) in (at desc, id desc) order;
 * `id: null` takes every record at `at` itself too (the cursor's source sorts after this one), `id: '0'` none of them.
 */
export interface ChangePage {
  before: { at: string; id: string | null } | null;
  limit: number;
}

/** A record with its instant to the microsecond (`atKey`, ISO 8601 with six decimals), as cursors carry it. */
export type KeyedChange = MasterDataChange & { atKey: string };

/** Up to `limit` records of one source after the page's start, newest first, and how many match the filter in all. */
export interface ChangeSlice {
  rows: KeyedChange[];
  total: number;
}

/** One domain's change records, named for the merge (the name orders records of the same instant). */
export interface NamedChangeSource {
  source: string;
  masterDataChanges(filter: ChangeFilter, page: ChangePage): Promise<ChangeSlice>;
}

/** A slice of one domain's `master_data_change` table. */
export async function masterDataChangeSlice<DB extends WithMasterDataChanges>(
  database: Kysely<DB>,
  filter: ChangeFilter,
  page: ChangePage,
): Promise<ChangeSlice> {
  const db = database as unknown as Kysely<WithMasterDataChanges>;
  let filtered = db.selectFrom('master_data_change');
  if (filter.entityType) filtered = filtered.where('entity_type', '=', filter.entityType);
  if (filter.entityId) filtered = filtered.where('entity_id', '=', filter.entityId);
  let rows = filtered
    .selectAll()
    .select(sql<string>`to_char(at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('atKey'));
  const { before } = page;
  if (before) {
    rows =
      before.id === null
        ? rows.where(sql<boolean>`at <= ${before.at}::timestamptz`)
        : rows.where(sql<boolean>`(at, id) < (${before.at}::timestamptz, ${before.id}::bigint)`);
  }
  const [found, total] = await Promise.all([
    rows.orderBy('at', 'desc').orderBy('id', 'desc').limit(page.limit).execute(),
    filtered.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return { rows: found, total: Number(total.count) };
}

export type MergedChange = KeyedChange & { source: string };

/** (at, source, id) descending: the order of the merged list. */
function newerFirst(a: MergedChange, b: MergedChange): number {
  if (a.atKey !== b.atKey) return a.atKey < b.atKey ? 1 : -1;
  if (a.source !== b.source) return a.source < b.source ? 1 : -1;
  const [x, y] = [BigInt(a.id), BigInt(b.id)];
  return x === y ? 0 : x < y ? 1 : -1;
}

function cursorOf(args: { after?: string | null }): { at: string; source: string; id: string } | null {
  const key = decodeCursor(args.after, 3);
  if (!key) return null;
  const [at, source, id] = key.map(String);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(at) || !/^\d+$/.test(id))
    throw badInput('after', 'is not a cursor this list returned; pass an endCursor from a previous page');
  return { at, source, id };
}

/**
 * One page of the records of every source, newest first. Each source is asked for one more record than the page
 * holds, after the cursor's position in its own terms, so the merged page and `hasNextPage` are exact.
 */
export async function mergedMasterDataChanges(
  sources: readonly NamedChangeSource[],
  args: ChangeFilter & { first?: number | null; after?: string | null },
): Promise<Connection<MergedChange>> {
  const limit = pageSize(args.first);
  const cursor = cursorOf(args);
  const filter: ChangeFilter = { entityType: args.entityType, entityId: args.entityId };
  const slices = await Promise.all(
    sources.map(async (named) => {
      const { source } = named;
      const before = !cursor
        ? null
        : { at: cursor.at, id: source === cursor.source ? cursor.id : source < cursor.source ? null : '0' };
      const slice = await named.masterDataChanges(filter, { before, limit: limit + 1 });
      return { total: slice.total, rows: slice.rows.map((row) => ({ ...row, source })) };
    }),
  );
  const merged = slices.flatMap((slice) => slice.rows).sort(newerFirst);
  const page = merged.slice(0, limit);
  const edges = page.map((node) => ({ cursor: encodeCursor([node.atKey, node.source, node.id]), node }));
  return {
    edges,
    pageInfo: { hasNextPage: merged.length > limit, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
    totalCount: slices.reduce((sum, slice) => sum + slice.total, 0),
  };
}
