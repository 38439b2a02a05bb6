// An expert's own declarations (MASTER-DATA.md, "The expert pool"; EXPERT, its own record only): a conflict with an
// organisation (avoidance ground 3 when it is a bidder), and windows it is unavailable (avoidance ground 9), which it
// may cancel. The record is the token's expert id, never an argument. Each change writes one audit record.
import { sql } from 'kysely';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { actorOf, recordMasterDataChange } from '../../lib/master-data-audit';
import type { Expert, ExpertsCore } from './core';
import type { UnavailabilityTable } from './types';
import type { Selectable } from 'kysely';

export type ConflictKind = 'KINSHIP' | 'ECONOMIC_INTEREST' | 'OTHER';
export type Unavailability = Selectable<UnavailabilityTable> & { from: Date; to: Date };

/** The calling expert's id: only an EXPERT token reaches here (the matrix), and it must name its expert. */
function ownExpert(identity: Identity): string {
  if (identity.role !== 'EXPERT' || !identity.expert)
    throw forbidden('only an expert declares, and only for its own record (its token names the expert)');
  return identity.expert;
}

async function expertOf(core: ExpertsCore, expertId: string): Promise<Expert> {
  const expert = await core.db.selectFrom('expert').selectAll().where('id', '=', expertId).executeTakeFirst();
  if (!expert) throw notFound('expert', expertId);
  return expert;
}

export async function declareConflict(
  core: ExpertsCore,
  identity: Identity,
  args: { organisation: string; kind: ConflictKind },
): Promise<Expert> {
  const expertId = ownExpert(identity);
  const organisation = args.organisation.trim();
  if (!organisation) throw badInput('organisation', 'name the organisation you have a conflict with');
  if (organisation.length > 200) throw badInput('organisation', 'must be at most 200 characters');
  await expertOf(core, expertId);
  await core.db.transaction().execute(async (trx) => {
    const added = await trx
      .insertInto('declared_conflict')
      .values({ expert_id: expertId, organisation, kind: args.kind })
      .onConflict((oc) => oc.doNothing())
      .returning('expert_id')
      .executeTakeFirst();
    // Declared before: nothing changes, nothing is recorded.
    if (!added) return;
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'DeclaredConflict',
      entityId: expertId,
      before: null,
      after: { organisation, kind: args.kind },
      sealedFields: ['organisation'],
    });
  });
  return expertOf(core, expertId);
}

/**
 * A window the expert cannot sit: from then on no draw over an overlapping window lists it (ground 9). A seat it already
 * accepted over the window is the host's to replace: CONFLICT, naming the project.
 */
export async function declareUnavailability(
  core: ExpertsCore,
  identity: Identity,
  args: { from: Date; to: Date; reason?: string | null },
): Promise<Expert> {
  const expertId = ownExpert(identity);
  if (args.to.getTime() <= args.from.getTime())
    throw badInput(
      'to',
      `${args.to.toISOString()} ends before the window starts (${args.from.toISOString()}); give a later to`,
    );
  if (args.to.getTime() <= core.clock.now().getTime())
    throw badInput('to', 'the window is already over; declare a window that ends in the future');
  const reason = args.reason?.trim() || null;
  if (reason && reason.length > 2000) throw badInput('reason', 'must be at most 2000 characters');
  const id = core.ids.next('unav');
  await core.db.transaction().execute(async (trx) => {
    // Serialises the expert's own declarations with changes to its record.
    await trx.selectFrom('expert').select('id').where('id', '=', expertId).forUpdate().executeTakeFirstOrThrow();
    const during = sql<string>`tstzrange(${args.from}::timestamptz, ${args.to}::timestamptz, '[)')`;
    // Locking the seats waits for an answer being given to one of them, and then sees it.
    const accepted = await trx
      .selectFrom('committee_seat')
      .select(['project_id', 'status'])
      .where('expert_id', '=', expertId)
      .where('live', '=', true)
      .where(sql<boolean>`during && ${during}`)
      .forUpdate()
      .execute();
    const held = accepted.filter((seat) => seat.status === 'ACCEPTED' || seat.status === 'CHECKED_IN');
    if (held.length > 0)
      throw conflict(
        `you accepted a seat over this window (project ${[...new Set(held.map((seat) => seat.project_id))].join(', ')}); ask the host to replace you, then declare the window`,
      );
    await trx
      .insertInto('unavailability')
      .values({ id, expert_id: expertId, during, reason, cancelled_at: null })
      .execute();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'ExpertUnavailability',
      entityId: id,
      before: null,
      after: { expertId, from: args.from.toISOString(), to: args.to.toISOString(), reason },
      sealedFields: ['reason'],
    });
  });
  return expertOf(core, expertId);
}

export async function cancelUnavailability(core: ExpertsCore, identity: Identity, id: string): Promise<Expert> {
  const expertId = ownExpert(identity);
  await core.db.transaction().execute(async (trx) => {
    const row = await trx.selectFrom('unavailability').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw notFound('unavailability', id);
    if (row.expert_id !== expertId) throw forbidden('this unavailability is not yours; cancel only your own');
    if (row.cancelled_at !== null) return;
    const now = core.clock.now();
    await trx.updateTable('unavailability').set({ cancelled_at: now }).where('id', '=', id).execute();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'ExpertUnavailability',
      entityId: id,
      before: { expertId, cancelledAt: null },
      after: { expertId, cancelledAt: now.toISOString() },
    });
  });
  return expertOf(core, expertId);
}

/** The windows of each expert, not cancelled, that have not ended yet, soonest first (Expert.unavailability). */
export async function unavailabilityOfExperts(
  core: ExpertsCore,
  expertIds: readonly string[],
): Promise<Unavailability[]> {
  const rows = await core.db
    .selectFrom('unavailability')
    .selectAll()
    .select([sql<Date>`lower(during)`.as('from'), sql<Date>`upper(during)`.as('to')])
    .where('expert_id', 'in', [...expertIds])
    .where('cancelled_at', 'is', null)
    .where(sql<boolean>`upper(during) > ${core.clock.now()}::timestamptz`)
    .orderBy(sql`lower(during)`)
    .orderBy('id')
    .execute();
  return rows;
}
