// The record every master-data change writes (MASTER-DATA.md, "Audited"): who (sub, role, platform), when, what (entity
// type and id), the fields before and after, and an optional note (an import's sha256). Each domain keeps its records in
// a `master_data_change` table of its own schema, written in the same transaction as the change, so a refused or rolled
// back change leaves no record and a committed one always has its record.
//
// Sealed fields: a writer names the fields of before/after that only PROVINCIAL_ADMIN may read (an expert's name and
// employer, say); any other reader gets the record without them, so a change record never shows a sealed value to
// someone who may not read it.
import { sql, type ColumnType, type Generated, type Kysely, type Transaction } from 'kysely';
import type { Identity } from './identity';
import { decodeCursor, pageSize, toConnection, type Connection } from './pagination';

/** Field values as JSON (before/after of a change). */
export type ChangeFields = Record<string, unknown>;

export interface MasterDataChangeTable {
  /** bigserial: arrives as a string. */
  id: Generated<string>;
  at: ColumnType<Date, Date | undefined, never>;
  actor: string;
  role: string;
  platform: string | null;
  entity_type: string;
  entity_id: string;
  before: ColumnType<ChangeFields | null, string | null, never>;
  after: ColumnType<ChangeFields | null, string | null, never>;
  /** Fields of before/after only PROVINCIAL_ADMIN may read. */
  sealed_fields: ColumnType<string[], string[] | undefined, never>;
  note: string | null;
}

export interface WithMasterDataChanges {
  master_data_change: MasterDataChangeTable;
}

/** Creates the domain's change table; call from the domain's migration (as createOutboxTable). */
export async function createMasterDataChangeTable(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table master_data_change (
      id bigserial primary key,
      at timestamptz not null default now(),
      actor text not null,
      role text not null,
      platform text,
      entity_type text not null,
      entity_id text not null,
      before jsonb,
      after jsonb,
      sealed_fields text[] not null default '{}',
      note text,
      check (before is not null or after is not null)
    )`.execute(db);
  await sql`create index master_data_change_entity_idx on master_data_change (entity_type, entity_id, id)`.execute(db);
}

/** Who made a change: from a verified token, or a command-line tool run by the operator of the database. */
export interface ChangeActor {
  sub: string;
  role: string;
  platform: string | null;
}

export function actorOf(identity: Identity): ChangeActor {
  return { sub: identity.sub, role: identity.role, platform: identity.platform };
}

export interface MasterDataChangeInput {
  actor: ChangeActor;
  entityType: string;
  entityId: string;
  /** null when the entity is created. */
  before: ChangeFields | null;
  /** null when the entity is removed. */
  after: ChangeFields | null;
  sealedFields?: readonly string[];
  note?: string | null;
  /** Defaults to the database's now() (the transaction's start). */
  at?: Date;
}

export type MasterDataChange = {
  id: string;
  at: Date;
  actor: string;
  role: string;
  platform: string | null;
  entity_type: string;
  entity_id: string;
  before: ChangeFields | null;
  after: ChangeFields | null;
  sealed_fields: string[];
  note: string | null;
};

/**
 * Writes one change record inside the change's own transaction; returns its id.
 *
 * ```ts
 * await db.transaction().execute(async (trx) => {
 *   await trx.updateTable('expert').set({ status: 'SUSPENDED' }).where('id', '=', id).execute();
 *   await recordMasterDataChange(trx, { actor: actorOf(identity), entityType: 'Expert', entityId: id, before: { status: 'ACTIVE' }, after: { status: 'SUSPENDED' } });
 * });
 * ```
 */
export async function recordMasterDataChange<DB extends WithMasterDataChanges>(
  trx: Transaction<DB>,
  change: MasterDataChangeInput,
): Promise<string> {
  const db = trx as unknown as Transaction<WithMasterDataChanges>;
  const row = await db
    .insertInto('master_data_change')
    .values({
      ...(change.at ? { at: change.at } : {}),
      actor: change.actor.sub,
      role: change.actor.role,
      platform: change.actor.platform,
      entity_type: change.entityType,
      entity_id: change.entityId,
      before: change.before === null ? null : JSON.stringify(change.before),
      after: change.after === null ? null : JSON.stringify(change.after),
      sealed_fields: [...(change.sealedFields ?? [])],
      note: change.note ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The fields of a change as a reader may see them: sealed fields only for PROVINCIAL_ADMIN. */
export function shownFields(
  fields: ChangeFields | null,
  sealed: readonly string[],
  reader: Pick<Identity, 'role'>,
): ChangeFields | null {
  if (fields === null || reader.role === 'PROVINCIAL_ADMIN' || sealed.length === 0) return fields;
  return Object.fromEntries(Object.entries(fields).filter(([key]) => !sealed.includes(key)));
}

export interface MasterDataChangesArgs {
  entityType?: string | null;
  entityId?: string | null;
  first?: number | null;
  after?: string | null;
}

/** A page of changes, newest first, optionally of one entity type or one entity. */
export async function listMasterDataChanges<DB extends WithMasterDataChanges>(
  database: Kysely<DB>,
  args: MasterDataChangesArgs,
): Promise<Connection<MasterDataChange>> {
  const db = database as unknown as Kysely<WithMasterDataChanges>;
  const limit = pageSize(args.first);
  const cursor = decodeCursor(args.after, 1);
  let filtered = db.selectFrom('master_data_change');
  if (args.entityType) filtered = filtered.where('entity_type', '=', args.entityType);
  if (args.entityId) filtered = filtered.where('entity_id', '=', args.entityId);
  let page = filtered.selectAll();
  if (cursor) page = page.where('id', '<', String(cursor[0]));
  const [rows, total] = await Promise.all([
    page
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute(),
    filtered.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow(),
  ]);
  return toConnection(rows, limit, Number(total.count), (row) => [row.id]);
}

/** MasterDataChange as GraphQL shows it to a reader (before/after as JSON text, sealed fields removed). */
export function masterDataChangeView(change: MasterDataChange, reader: Pick<Identity, 'role'>) {
  const before = shownFields(change.before, change.sealed_fields, reader);
  const after = shownFields(change.after, change.sealed_fields, reader);
  return {
    id: change.id,
    at: change.at,
    actor: change.actor,
    role: change.role,
    platform: change.platform,
    entityType: change.entity_type,
    entityId: change.entity_id,
    before: before === null ? null : JSON.stringify(before),
    after: after === null ? null : JSON.stringify(after),
    note: change.note,
  };
}

/** A connection of changes as GraphQL shows it to a reader. */
export function masterDataChangeConnectionView(
  connection: Connection<MasterDataChange>,
  reader: Pick<Identity, 'role'>,
) {
  return {
    ...connection,
    edges: connection.edges.map((edge) => ({ cursor: edge.cursor, node: masterDataChangeView(edge.node, reader) })),
  };
}

/**
 * The GraphQL shape, for the SDL of every subgraph that shows change records (shareable, so several may declare it).
 * It needs `DateTime` and a shareable `PageInfo` in the same SDL. Kept here as the reference; schema/experts.graphql
 * holds a copy, as SDL files are read as they are.
 */
export const MASTER_DATA_CHANGE_SDL = `
type MasterDataChange @shareable {
  id: ID!
  at: DateTime!
  actor: String!
  role: String!
  platform: ID
  entityType: String!
  entityId: ID!
  before: String
  after: String
  note: String
}
type MasterDataChangeEdge @shareable { cursor: String! node: MasterDataChange! }
type MasterDataChangeConnection @shareable { edges: [MasterDataChangeEdge!]! pageInfo: PageInfo! totalCount: Int! }
`;
