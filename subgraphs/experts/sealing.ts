// Sealing (DOMAIN.md): who may see an expert's identity, decided in one place for every field that reveals it.
import { hubError } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import type { CommitteeSeat, Expert } from './service';

/** The pool's administrators and the expert itself read an expert's name and employer. */
export function mayReadExpertIdentity(identity: Identity, expert: Expert): boolean {
  return identity.role === 'PROVINCIAL_ADMIN' || (identity.role === 'EXPERT' && identity.expert === expert.id);
}

/** The link between a seat and its expert: the expert itself for its own invitations. */
export function mayReadSeatExpert(identity: Identity, seat: CommitteeSeat): boolean {
  return identity.role === 'EXPERT' && seat.expert_id !== null && identity.expert === seat.expert_id;
}

export function sealedError(field: string) {
  return hubError('SEALED', `${field} is sealed: it is visible only to those DOMAIN.md allows, and only from the moment it allows`);
}
