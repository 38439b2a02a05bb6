// Withdrawing an expert's live seats when the pool's administrator suspends, penalises or retires it (MASTER-DATA.md,
// "The expert pool"): refused (CONFLICT naming the projects) unless the caller asked for the withdrawal, and then each
// seat is replaced by the verifiable replacement draw, the very drawReplacement a member's withdrawal during the
// evaluation uses: the seat becomes REPLACED and the next round of its group draws and invites the replacement.
import { sql, type Kysely, type Transaction } from 'kysely';
import { conflict, hubError } from '../../lib/errors';
import { eligibilityQueryOf, type CommitteeSeat, type ExpertsCore } from './core';
import { eligibleExperts, type EligibilityFacts } from './eligibility';
import { drawReplacement } from './invitations';
import type { ExpertsDatabase } from './types';

/**
 * The reason a withdrawn seat carries. It names neither the expert nor why the pool changed: the seat's status and
 * reason are read by the project's readers before the seal lifts, when who held the seat is still sealed.
 */
export const POOL_WITHDRAWAL_REASON = 'withdrawn by the pool administrator (the member may no longer sit)';

/** The live seats of an expert on evaluations not yet over, the expert's row locked by the caller's transaction. */
export function liveSeatsOf(db: Kysely<ExpertsDatabase>, expertId: string, now: Date): Promise<CommitteeSeat[]> {
  return db
    .selectFrom('committee_seat')
    .selectAll()
    .where('expert_id', '=', expertId)
    .where('live', '=', true)
    .where(sql<boolean>`upper(during) > ${now}::timestamptz`)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** The refusal of a change that would leave the expert on committees: names the projects and the way forward. */
export function seatsInTheWay(action: string, seats: readonly CommitteeSeat[]) {
  const projects = [...new Set(seats.map((seat) => seat.project_id))].sort();
  return conflict(
    `cannot ${action}: the expert holds ${seats.length} live seat(s) on evaluations not yet over (projects ${projects.join(', ')}); ` +
      'pass withdrawSeats: true to withdraw them, each replaced by the verifiable replacement draw',
  );
}

/**
 * Before anything is written: every seat to withdraw has somebody eligible to replace it (the expert itself, now
 * leaving, not counted). A seat nobody could replace refuses the whole change with INSUFFICIENT_EXPERTS, naming the
 * project, so a refused change writes nothing.
 */
export async function requireReplaceable(
  core: ExpertsCore,
  trx: Transaction<ExpertsDatabase>,
  expertId: string,
  seats: readonly CommitteeSeat[],
): Promise<void> {
  for (const seat of seats) {
    if (!seat.group_key)
      throw conflict(`a seat of project ${seat.project_id} belongs to no draw group; it cannot be replaced by a draw`);
    const draw = await trx
      .selectFrom('draw')
      .select(['eligibility'])
      .where('id', '=', seat.draw_id)
      .executeTakeFirstOrThrow();
    const facts = draw.eligibility as EligibilityFacts | null;
    if (!facts) throw conflict(`the draw of project ${seat.project_id} has not run yet; try again once it has`);
    const eligible = await eligibleExperts(
      trx,
      eligibilityQueryOf(core, facts),
      [{ group_key: seat.group_key, specialty: seat.specialty }],
      core.rosters,
    );
    const candidates = (eligible.get(seat.group_key)?.candidates ?? []).filter((id) => id !== expertId);
    if (candidates.length === 0)
      throw hubError(
        'INSUFFICIENT_EXPERTS',
        `nobody eligible is left to replace the seat of project ${seat.project_id} (${seat.specialty}); nothing was changed`,
      );
  }
}

/**
 * Withdraws the seats, each by drawReplacement in a transaction of its own (the seat REPLACED and its replacement
 * drawn together, as during an evaluation). Called after the expert's change committed, so the expert can no longer be
 * drawn (ground 5) while its seats are replaced. Returns the replacement seats.
 */
export async function withdrawSeats(core: ExpertsCore, seats: readonly CommitteeSeat[]): Promise<CommitteeSeat[]> {
  const replacements: CommitteeSeat[] = [];
  for (const seat of seats) replacements.push(await drawReplacement(core, seat.id, POOL_WITHDRAWAL_REASON));
  return replacements;
}
