// Step 6 of the workflow, 现场服务: an expert checks in at its seat's room; the closed evaluation area admits nobody else.
// Every attempt, admitted or refused, is kept (who, where, when, why) for the supervisors and goes to the project's
// timeline through the outbox (jobs/check-in.ts), without the expert's identity (the timeline is not sealed). An attempt
// is recorded as the caller's: an expert by the seat it holds on the project, whatever seat its request named.
import type { GraphQLError } from 'graphql';
import type { Selectable, Transaction } from 'kysely';
import { actorOf } from '../../lib/authz';
import { shownActor } from './sealing';
import { codeOf, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { writeOutbox } from '../../lib/outbox';
import { JOBS } from '../../jobs/catalogue';
import type { CommitteeSeat, ExpertsCore } from './core';
import { drawsByIds, seatsByIds } from './draw-records';
import type { AccessAttemptTable, ExpertsDatabase } from './types';

export type AccessAttempt = Selectable<AccessAttemptTable>;

/** An expert may check in from this long before the evaluation starts until it ends. */
export const CHECK_IN_OPENS_BEFORE_MS = 60 * 60_000;

/** The job that writes an attempt onto the project's timeline (handled in jobs/check-in.ts). */
const ACCESS_ATTEMPT_JOB = JOBS.accessAttempt;

interface Refusal {
  error: GraphQLError;
  seat: CommitteeSeat | null;
}

/** Why a check-in is refused, or null when it is admitted: the rules in the order a door keeper checks them. */
async function refusalOf(
  core: ExpertsCore,
  identity: Identity,
  seatId: string,
  roomId: string,
  now: Date,
): Promise<Refusal | null> {
  const [seat] = await seatsByIds(core, [seatId]);
  if (identity.role !== 'EXPERT')
    return { error: forbidden(`only the seat's EXPERT checks in; your role is ${identity.role}`), seat: seat ?? null };
  if (!seat) return { error: notFound('committee seat', seatId), seat: null };
  if (seat.expert_id !== identity.expert)
    return {
      error: forbidden('this seat is not yours; check in at the seat of your own invitation (myInvitations)'),
      seat,
    };
  if (seat.status !== 'ACCEPTED') {
    const why =
      seat.status === 'CHECKED_IN'
        ? 'you are already checked in'
        : seat.status === 'INVITED'
          ? 'accept the invitation first'
          : 'it no longer holds a place on the committee';
    return { error: conflict(`seat ${seat.id} is ${seat.status}; only an ACCEPTED seat checks in (${why})`), seat };
  }
  if (roomId !== seat.room_id)
    return {
      error: forbidden(`seat ${seat.id} is in room ${seat.room_id}; check in there, not in room ${roomId}`),
      seat,
    };
  const [draw] = await drawsByIds(core, [seat.draw_id]);
  const opens = new Date(draw.starts_at.getTime() - CHECK_IN_OPENS_BEFORE_MS);
  if (now < opens)
    return {
      error: conflict(`check-in opens one hour before the evaluation, at ${opens.toISOString()}; come back then`),
      seat,
    };
  if (now >= draw.ends_at)
    return { error: conflict(`the evaluation ended at ${draw.ends_at.toISOString()}; check-in is closed`), seat };
  return null;
}

/**
 * Checks an expert in at its seat: only the seat's EXPERT, only an ACCEPTED seat, only in the room of the seat's
 * booking, only from one hour before the window starts until it ends. A refusal changes no seat and is recorded as a
 * refused access attempt before the error is thrown.
 *
 * ```ts
 * const seat = await experts.checkIn({ role: 'EXPERT', expert: 'exp-00012', platform: '411700', sub: 'e' }, 'seat_…', 'room-411700-1');
 * seat.status; // 'CHECKED_IN'
 * ```
 */
export async function checkIn(
  core: ExpertsCore,
  identity: Identity,
  seatId: string,
  roomId: string,
): Promise<CommitteeSeat> {
  const now = core.clock.now();
  const refusal = await refusalOf(core, identity, seatId, roomId, now);
  if (refusal) {
    await recordAttempt(core, identity, { seat: refusal.seat, roomId, at: now, refusal: refusal.error });
    throw refusal.error;
  }
  const admitted = await core.db.transaction().execute(async (trx) => {
    // The status guard makes the check-in once only, whatever the concurrency (a withdrawal, a second device).
    const seat = await trx
      .updateTable('committee_seat')
      .set({ status: 'CHECKED_IN', checked_in_at: now, checked_in_room_id: roomId })
      .where('id', '=', seatId)
      .where('status', '=', 'ACCEPTED')
      .returningAll()
      .executeTakeFirst();
    if (seat) await insertAttempt(trx, identity, { seat, roomId, at: now, refusal: null });
    return seat;
  });
  if (!admitted) {
    const error = conflict(`seat ${seatId} changed meanwhile and is no longer ACCEPTED; look at it again`);
    const [seat] = await seatsByIds(core, [seatId]);
    await recordAttempt(core, identity, { seat: seat ?? null, roomId, at: now, refusal: error });
    throw error;
  }
  return admitted;
}

interface AttemptFacts {
  seat: CommitteeSeat | null;
  roomId: string;
  at: Date;
  refusal: GraphQLError | null;
}

async function recordAttempt(core: ExpertsCore, identity: Identity, facts: AttemptFacts): Promise<void> {
  await core.db.transaction().execute((trx) => insertAttempt(trx, identity, facts));
}

/**
 * The seat the calling expert holds on the project of the seat it named (the named seat when it is its own), so that a
 * refusal is recorded as the caller's, not as the named seat's holder's. A live seat first, then the latest.
 */
async function callerSeatOf(
  trx: Transaction<ExpertsDatabase>,
  identity: Identity,
  named: CommitteeSeat | null,
): Promise<string | null> {
  if (identity.role !== 'EXPERT' || !identity.expert || !named) return null;
  if (named.expert_id === identity.expert) return named.id;
  const own = await trx
    .selectFrom('committee_seat')
    .select('id')
    .where('project_id', '=', named.project_id)
    .where('expert_id', '=', identity.expert)
    .orderBy('live', 'desc')
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(1)
    .executeTakeFirst();
  return own?.id ?? null;
}

async function insertAttempt(
  trx: Transaction<ExpertsDatabase>,
  identity: Identity,
  facts: AttemptFacts,
): Promise<void> {
  const callerSeatId = await callerSeatOf(trx, identity, facts.seat);
  const row = await trx
    .insertInto('access_attempt')
    .values({
      at: facts.at,
      actor: actorOf(identity),
      role: identity.role,
      expert_id: identity.role === 'EXPERT' ? (identity.expert ?? null) : null,
      project_id: facts.seat?.project_id ?? null,
      seat_id: facts.seat?.id ?? null,
      caller_seat_id: callerSeatId,
      room_id: facts.roomId.slice(0, 200),
      admitted: facts.refusal === null,
      code: facts.refusal ? (codeOf(facts.refusal) ?? 'FORBIDDEN') : null,
      reason: facts.refusal ? facts.refusal.message : 'checked in',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  if (facts.seat) await writeOutbox<ExpertsDatabase>(trx, { ...ACCESS_ATTEMPT_JOB, data: { attemptId: row.id } });
}

export function accessAttemptsByIds(core: ExpertsCore, ids: readonly string[]): Promise<AccessAttempt[]> {
  return core.db
    .selectFrom('access_attempt')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

/** The attempts to enter a project's evaluation area, oldest first. */
export function accessAttemptsOfProject(core: ExpertsCore, projectId: string): Promise<AccessAttempt[]> {
  return core.db
    .selectFrom('access_attempt')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}

/**
 * How an attempt reads on the project's timeline: the caller, an expert by the seat it holds on the project, never by
 * its id (agencies read the timeline). Rows from before caller_seat_id was recorded: an admitted one was the seat's own.
 *
 * ```ts
 * timelineEventOf(attempt) // { kind: 'EXPERT_CHECKED_IN', actor: 'expert@seat:seat_1', … }
 * ```
 */
export function timelineEventOf(attempt: AccessAttempt): {
  kind: string;
  actor: string;
  detail: string;
  data: { [key: string]: string | null };
} {
  const actor = shownActor(
    attempt.role,
    attempt.actor,
    attempt.caller_seat_id ?? (attempt.admitted ? attempt.seat_id : null),
  );
  return attempt.admitted
    ? {
        kind: 'EXPERT_CHECKED_IN',
        actor,
        detail: `seat ${attempt.seat_id} checked in at room ${attempt.room_id}`,
        data: { seatId: attempt.seat_id, roomId: attempt.room_id, at: attempt.at.toISOString() },
      }
    : {
        kind: 'ACCESS_REFUSED',
        actor,
        detail: `refused at room ${attempt.room_id}: ${attempt.reason}`,
        data: { seatId: attempt.seat_id, roomId: attempt.room_id, code: attempt.code, at: attempt.at.toISOString() },
      };
}
