// Sealing (DOMAIN.md): who may see an expert's identity, decided in one place for every field that reveals it.
// The draw carries the project's host, its parent, its department and when the evaluation started (unsealed_at), so
// the rule is decided here at read time without asking the projects domain.
import { actorOf } from '../../lib/authz';
import { hubError } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import type { CommitteeSeat, Draw, Expert, SealedAccess, SealedRead } from './core';

/** A seat together with its draw: what sealing needs to decide on the expert behind the seat. */
export interface SeatInDraw {
  seat: CommitteeSeat;
  draw: Draw;
}

/** An expert reached through a committee seat carries that seat, so its name and employer follow the seat's rule. */
export type ExpertView = Expert & { via?: SeatInDraw };

/** The project's supervisors: its department, on the host platform or the host's parent. */
function isProjectSupervisor(identity: Identity, draw: Draw): boolean {
  return (
    identity.role === 'SUPERVISOR' &&
    draw.department !== null &&
    identity.department === draw.department &&
    (identity.platform === draw.host_platform_id ||
      (draw.host_parent_id !== null && identity.platform === draw.host_parent_id))
  );
}

function isHostOperator(identity: Identity, draw: Draw): boolean {
  return (
    identity.role === 'PLATFORM_OPERATOR' &&
    draw.host_platform_id !== null &&
    identity.platform === draw.host_platform_id
  );
}

/**
 * The link between a seat and its expert: the expert itself for its own invitations; the host platform's operators
 * and the project's supervisors once the evaluation started; nobody else, ever (agencies, partner systems, and the
 * provincial admin too: it administers the pool, not the committees).
 */
export function mayReadSeatExpert(identity: Identity, { seat, draw }: SeatInDraw): boolean {
  if (identity.role === 'EXPERT') return seat.expert_id !== null && identity.expert === seat.expert_id;
  if (draw.unsealed_at === null) return false;
  return isHostOperator(identity, draw) || isProjectSupervisor(identity, draw);
}

/** An expert's name and employer: the pool's administrators, the expert itself, and those allowed to see the seat it was reached through. */
export function mayReadExpertIdentity(identity: Identity, expert: ExpertView): boolean {
  if (identity.role === 'PROVINCIAL_ADMIN') return true;
  if (identity.role === 'EXPERT' && identity.expert === expert.id) return true;
  return expert.via !== undefined && mayReadSeatExpert(identity, expert.via);
}

/**
 * The seal lifts when the project's evaluation starts (IN_EVALUATION; unsealCommittee stamps the project's draws).
 * Until then nothing that allows recomputing the committee leaves the hub: the seed, the candidate lists and their
 * digests, the stream positions and the host quotas. With the seed, a digest and the pool listing, candidate lists can
 * be rebuilt until one matches, and the committee with it. A failed draw is never unsealed: its seats stay sealed.
 */
export function drawSealLifted(draw: Draw): boolean {
  return draw.unsealed_at !== null;
}

/** The draw's seed as anyone may read it: null until the seal lifts (the commitment is public from the start). */
export function revealedSeed(draw: Draw): string | null {
  return drawSealLifted(draw) ? draw.seed : null;
}

/** Refuses to recompute a draw before its seal lifts, saying when it becomes possible. */
export function requireDrawSealLifted(draw: Draw): void {
  if (drawSealLifted(draw)) return;
  const when =
    draw.status === 'FAILED'
      ? 'a failed draw is never unsealed'
      : `it becomes available when the project's evaluation starts (IN_EVALUATION), at the earliest ${draw.starts_at.toISOString()}`;
  throw hubError(
    'SEALED',
    `draw ${draw.id} cannot be verified yet: its seed and candidate lists are sealed until the evaluation starts; ${when}`,
  );
}

/**
 * The access audit never becomes a way around the seal: a row of an expert reading its own seat links that expert to
 * the project, so it is shown only once the seat's draw is unsealed. Rows of anyone else exist only after that (nobody
 * else may read a seat's expert before), and a row without its draw shows nothing.
 */
export function auditRowShown(row: SealedAccess, draw: Draw | null | undefined): boolean {
  if (!draw) return false;
  return row.role !== 'EXPERT' || drawSealLifted(draw);
}

/**
 * How an audit or a check-in names its actor: an expert by the seat it holds on the project (expert@seat:<id>), never
 * by its id, since audits and timelines are read by those (the provincial admin, agencies) who may never link an
 * expert to a committee; anyone else by actorOf.
 */
export function shownActor(role: string, actor: string, expertSeatId: string | null): string {
  if (role !== 'EXPERT') return actor;
  return expertSeatId ? `expert@seat:${expertSeatId}` : 'expert@seat:none (holds no seat of this project)';
}

/** Recomputing a draw: the host's operators, the project's supervisors and the provincial admin (it reveals no identity). */
export function mayVerifyDraw(identity: Identity, draw: Draw): boolean {
  return identity.role === 'PROVINCIAL_ADMIN' || isHostOperator(identity, draw) || isProjectSupervisor(identity, draw);
}

/** The access audit: the project's supervisors and the provincial admin. */
export function mayReadAccessAudit(identity: Identity, draw: Draw): boolean {
  return identity.role === 'PROVINCIAL_ADMIN' || isProjectSupervisor(identity, draw);
}

/** The audit row of an allowed read of a sealed field reached through a seat. */
export function sealedRead(identity: Identity, field: string, { seat, draw }: SeatInDraw): SealedRead {
  return {
    actor: actorOf(identity),
    role: identity.role,
    field,
    projectId: draw.project_id,
    drawId: draw.id,
    seatId: seat.id,
    expertId: seat.expert_id ?? '',
  };
}

export function sealedError(field: string) {
  return hubError(
    'SEALED',
    `${field} is sealed: it is visible only to those DOMAIN.md allows, and only from the moment it allows`,
  );
}
