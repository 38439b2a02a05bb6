// Invitations and replacements: an invited expert answers (only its own invitation), an unanswered one expires and
// counts as declined, a declined seat is replaced in the next round of its group, and a member who must withdraw is
// replaced by the same verifiable method. The replacement's reason is checked here, once.
import { sql, type Kysely } from 'kysely';
import { badInput, conflict, forbidden, hubError } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { writeOutbox } from '../../lib/outbox';
import { DRAW_JOBS, LIVE_SEAT_STATUSES, type CommitteeSeat, type DrawOutcome, type ExpertsCore } from './core';
import { getDraw, getSeat } from './draw-records';
import { failDraw } from './draw-run';
import { fillGroup } from './rounds';
import type { ExpertsDatabase } from './types';

/**
 * An invited expert accepts, or declines with a reason. Only the expert of the seat may answer. A decline starts the
 * replacement; the last acceptance of a draw starts the committee's confirmation.
 */
export async function respondToInvitation(
  core: ExpertsCore,
  identity: Identity,
  seatId: string,
  accept: boolean,
  reason: string | null,
): Promise<CommitteeSeat> {
  const trimmed = reason?.trim() || null;
  if (!accept && !trimmed) throw badInput('reason', 'say why you decline the invitation');
  if (trimmed && trimmed.length > 2000) throw badInput('reason', 'must be at most 2000 characters');
  const seat = await getSeat(core, seatId);
  // Only an EXPERT gets here (the matrix, lib/authorization.ts); which seat is its own is the scope checked here.
  if (seat.expert_id !== identity.expert)
    throw forbidden('this invitation is not yours; answer only your own invitations (myInvitations)');
  return core.db.transaction().execute(async (trx) => {
    // The draw's row lock serialises answers, so exactly one of them sees the committee complete.
    const draw = await trx
      .selectFrom('draw')
      .selectAll()
      .where('id', '=', seat.draw_id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const current = await trx
      .selectFrom('committee_seat')
      .selectAll()
      .where('id', '=', seatId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (current.status !== 'INVITED' || current.invited_at === null)
      throw conflict(`this invitation is ${current.status} and takes no answer now`);
    const now = core.clock.now();
    if (current.answer_due_at && current.answer_due_at <= now)
      throw conflict('this invitation expired unanswered and counts as declined');
    // Under the seat's lock, which declareUnavailability takes too: a window declared meanwhile is seen here.
    if (accept && (await declaredUnavailableOver(trx, current)))
      throw conflict(
        'you declared yourself unavailable over this evaluation (declareUnavailability); decline the invitation, or cancel that declaration first',
      );
    const updated = await trx
      .updateTable('committee_seat')
      .set({ status: accept ? 'ACCEPTED' : 'DECLINED', responded_at: now, reason: trimmed })
      .where('id', '=', seatId)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (!accept) await writeOutbox<ExpertsDatabase>(trx, { ...DRAW_JOBS.replace, data: { seatId } });
    else if (draw.status === 'PENDING' && (await everySeatAccepted(trx, draw.id))) {
      await writeOutbox<ExpertsDatabase>(trx, { ...DRAW_JOBS.committeeComplete, data: { drawId: draw.id } });
    }
    return updated;
  });
}

/** The seat's expert declared a window, not cancelled, that overlaps the seat's evaluation (avoidance ground 9). */
async function declaredUnavailableOver(db: Kysely<ExpertsDatabase>, seat: CommitteeSeat): Promise<boolean> {
  if (seat.expert_id === null) return false;
  const row = await db
    .selectFrom('unavailability')
    .select('id')
    .where('expert_id', '=', seat.expert_id)
    .where('cancelled_at', 'is', null)
    .where(sql<boolean>`during && ${seat.during}::tstzrange`)
    .executeTakeFirst();
  return row !== undefined;
}

/** Every group of the draw is full and every live seat ACCEPTED (checked-in seats count as accepted). */
async function everySeatAccepted(db: Kysely<ExpertsDatabase>, drawId: string): Promise<boolean> {
  const wanted = await db
    .selectFrom('draw_group')
    .select((eb) => eb.fn.sum<string>('seats').as('seats'))
    .where('draw_id', '=', drawId)
    .executeTakeFirstOrThrow();
  const seats = await db
    .selectFrom('committee_seat')
    .select(['status'])
    .where('draw_id', '=', drawId)
    .where('live', '=', true)
    .execute();
  return (
    seats.length === Number(wanted.seats) &&
    seats.every((seat) => seat.status === 'ACCEPTED' || seat.status === 'CHECKED_IN')
  );
}

export function committeeComplete(core: ExpertsCore, drawId: string): Promise<boolean> {
  return everySeatAccepted(core.db, drawId);
}

/** An invitation unanswered within INVITE_TTL counts as declined and starts a replacement. Throws while not yet due. */
export async function expireInvitation(core: ExpertsCore, seatId: string): Promise<'DECLINED' | 'ANSWERED'> {
  const seat = await getSeat(core, seatId);
  return core.db.transaction().execute(async (trx) => {
    await trx.selectFrom('draw').select('id').where('id', '=', seat.draw_id).forUpdate().executeTakeFirstOrThrow();
    const current = await trx
      .selectFrom('committee_seat')
      .selectAll()
      .where('id', '=', seatId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (current.status !== 'INVITED') return 'ANSWERED';
    const now = core.clock.now();
    if (!current.answer_due_at || current.answer_due_at > now)
      throw new Error(`invitation ${seatId} is not due yet; retry later`);
    await trx
      .updateTable('committee_seat')
      .set({
        status: 'DECLINED',
        responded_at: now,
        reason: `no answer within ${Math.round(core.policy.inviteTtlMs / 1000)} s (INVITE_TTL)`,
      })
      .where('id', '=', seatId)
      .execute();
    await writeOutbox<ExpertsDatabase>(trx, { ...DRAW_JOBS.replace, data: { seatId } });
    return 'DECLINED';
  });
}

/**
 * Draws the replacement of a DECLINED seat in the next round of its group (decliners are never redrawn: ground 8).
 * When nobody eligible is left, the draw FAILS and releases its seats. Idempotent: a seat is replaced once.
 */
export async function replaceDeclinedSeat(core: ExpertsCore, seatId: string): Promise<DrawOutcome> {
  const seat = await getSeat(core, seatId);
  if (seat.status !== 'DECLINED' || !seat.group_key)
    return { kind: 'SKIPPED', why: `seat ${seatId} is ${seat.status}` };
  const draw = await getDraw(core, seat.draw_id);
  if (draw.status !== 'PENDING') return { kind: 'SKIPPED', why: `the draw is ${draw.status}` };
  const outcome = await fillGroup(core, draw.id, seat.group_key, seatId);
  if (outcome.kind === 'INSUFFICIENT') {
    await failDraw(core, draw.id, outcome.reason);
    return { kind: 'FAILED', reason: outcome.reason };
  }
  if (outcome.kind === 'SKIPPED') return outcome;
  return { kind: 'SEATED', seats: 1 };
}

/**
 * A committee member who must withdraw (during the evaluation, say) is replaced by the same method: the seat becomes
 * REPLACED with the reason, and a new seat of the same group is drawn in the next round and INVITED. Both happen in
 * one transaction under the draw's row lock, so a crash between them rolls the seat back to what it was: no seat is
 * ever left replaced by nobody. Refused with INSUFFICIENT_EXPERTS (and the seat left as it was) when nobody eligible
 * is left. Returns the new seat.
 */
export async function drawReplacement(core: ExpertsCore, seatId: string, reason: string): Promise<CommitteeSeat> {
  const trimmed = reason.trim();
  if (!trimmed) throw badInput('reason', 'say why the member is replaced');
  if (trimmed.length > 2000) throw badInput('reason', 'must be at most 2000 characters');
  const seat = await getSeat(core, seatId);
  if (!seat.group_key) throw conflict(`seat ${seatId} belongs to no draw group; it cannot be replaced by a draw`);
  const groupKey = seat.group_key;
  const outcome = await fillGroup(core, seat.draw_id, groupKey, seatId, async (trx) => {
    // Under the draw's row lock: the seat's status now, not as read before the lock.
    const withdrawn = await trx
      .updateTable('committee_seat')
      .set({ status: 'REPLACED', reason: trimmed, responded_at: core.clock.now() })
      .where('id', '=', seatId)
      .where('status', 'in', [...LIVE_SEAT_STATUSES])
      .returning('id')
      .executeTakeFirst();
    if (!withdrawn) {
      const current = await trx
        .selectFrom('committee_seat')
        .select('status')
        .where('id', '=', seatId)
        .executeTakeFirstOrThrow();
      throw conflict(
        `seat ${seatId} is ${current.status}; only a live seat (${LIVE_SEAT_STATUSES.join(', ')}) can be replaced`,
      );
    }
    await core.hooks.seatWithdrawn?.(seatId);
  });
  if (outcome.kind === 'INSUFFICIENT') throw hubError('INSUFFICIENT_EXPERTS', outcome.reason);
  if (outcome.kind === 'SKIPPED') throw conflict(`seat ${seatId} cannot be replaced: ${outcome.why}`);
  return core.db
    .selectFrom('committee_seat')
    .selectAll()
    .where('replaces_seat_id', '=', seatId)
    .executeTakeFirstOrThrow();
}
