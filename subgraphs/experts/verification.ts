// Verification of a draw: every round recomputed from what was stored (the seed against its commitment, each
// candidate list against its digest, each selection from the stream), and every seat traced to the round that made it.
import type { DrawVerification, ExpertsCore } from './core';
import { getDraw, roundsOfDraw, seatsOfDraws } from './draw-records';
import { candidatesDigest, effectiveSeed, selectRound, sha256Hex, sortCandidates } from './selection';

/**
 * Recomputes every round of a draw from what was stored: the seed against its commitment, each candidate list
 * against its digest, each selection from the stream (continued across rounds), and each SEATED round's seats.
 */
export async function verifyDraw(core: ExpertsCore, drawId: string): Promise<DrawVerification> {
  const draw = await getDraw(core, drawId);
  const fail = (detail: string): DrawVerification => ({ drawId, matches: false, detail });
  if (!draw.seed || !/^[0-9a-f]{64}$/.test(draw.seed)) return fail('the stored seed is missing or malformed');
  const seed = Buffer.from(draw.seed, 'hex');
  if (sha256Hex(seed) !== draw.seed_commitment) return fail('sha256(seed) does not equal the published commitment');
  const key = effectiveSeed(seed, draw.supervisor_nonce);
  const rounds = await roundsOfDraw(core, drawId);
  const seats = await seatsOfDraws(core, [drawId]);
  const counters = new Map<string, number>();
  const roundsSeen = new Map<string, number>();
  for (const round of rounds) {
    const label = `group ${round.group_key} round ${round.round}`;
    const expectedRound = (roundsSeen.get(round.group_key) ?? 0) + 1;
    if (round.round !== expectedRound)
      return fail(`${label}: rounds are not consecutive (expected round ${expectedRound})`);
    roundsSeen.set(round.group_key, expectedRound);
    const sorted = sortCandidates(round.candidates);
    if (sorted.length !== round.candidates.length || sorted.some((id, i) => id !== round.candidates[i]))
      return fail(`${label}: the candidate list is not sorted by expert id`);
    if (candidatesDigest(round.candidates) !== round.candidates_digest)
      return fail(`${label}: the candidate list does not match its digest`);
    const start = counters.get(round.group_key) ?? 0;
    if (Number(round.counter_start) !== start)
      return fail(`${label}: the stream does not continue where the previous round ended`);
    const result = selectRound({
      key,
      groupKey: round.group_key,
      candidates: round.candidates,
      hostRegion: new Set(round.host_region_candidates),
      hostQuota: round.host_quota,
      wanted: round.wanted,
      counterStart: start,
    });
    counters.set(round.group_key, result.counterEnd);
    if (result.counterEnd !== Number(round.counter_end))
      return fail(`${label}: the stream position after the round differs`);
    if (result.selected.length !== round.selected.length || result.selected.some((id, i) => id !== round.selected[i]))
      return fail(`${label}: the recomputed selection differs from the recorded one`);
    if (round.outcome === 'SEATED') {
      const seated = seats
        .filter((seat) => seat.group_key === round.group_key && seat.round === round.round)
        .map((seat) => seat.expert_id ?? '');
      if (
        sortCandidates(seated).join() !== sortCandidates(result.selected).join() ||
        seated.length !== result.selected.length
      ) {
        return fail(`${label}: the seats do not hold the experts the round selected`);
      }
    }
  }
  for (const seat of seats) {
    if (
      !rounds.some(
        (round) => round.outcome === 'SEATED' && round.group_key === seat.group_key && round.round === seat.round,
      )
    ) {
      return fail(`seat ${seat.id} was not created by any recorded round`);
    }
  }
  return {
    drawId,
    matches: true,
    detail: `${rounds.length} round(s) recomputed from the stored candidate lists and the seed`,
  };
}
