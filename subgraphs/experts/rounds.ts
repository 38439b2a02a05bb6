// The rounds of a draw: one group's verifiable round (eligible candidates in SQL, the selection from the seed's stream,
// the round and its seats written together), the record of a round that lost a race for an expert, and the
// invitations a filled round sends. A draw's run (draw-run.ts) and a replacement (invitations.ts) both fill groups here.
import { sql, type RawBuilder, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { writeOutbox, type OutboxMessage } from '../../lib/outbox';
import { DRAW_JOBS, eligibilityQueryOf, type Draw, type DrawGroup, type ExpertsCore, type FillOutcome } from './core';
import {
  eligibleExperts,
  hostCandidatesOf,
  joinedIdsOf,
  withoutSeated,
  type EligibilityFacts,
  type EligibleExperts,
} from './eligibility';
import { candidatesDigest, effectiveSeed, selectableOf, selectRound } from './selection';
import type { ExpertsDatabase, RoundOutcome, SeatStatus } from './types';

/** How many times a draw's run, or a replacement's round, may lose a race for an expert before it gives up (each loss removes a candidate). */
export const MAX_ROUND_ATTEMPTS = 40;
/**
 * How long a draw's run waits for another run's uncommitted seat of an expert it selected before its round counts as
 * lost (a run takes tens of milliseconds; a longer wait is a queue of runs, or two runs waiting on each other).
 */
export const SEAT_WAIT = '200ms';

/** A draw's run (runDraw): its groups in fill order, and the candidate lists its first round made for later groups. */
export interface DrawRun {
  groups: readonly DrawGroup[];
  lists: Map<string, EligibleExperts>;
}

/** A replacement round that filled nothing: thrown out of its transaction so that what ran before it rolls back too. */
class Unfilled extends Error {
  constructor(readonly outcome: Exclude<FillOutcome, { kind: 'FILLED' }>) {
    super('the group was not filled');
  }
}

export class LostRace extends Error {
  constructor(readonly round: RoundRecord) {
    super('lost a race for an expert');
  }
}

export interface RoundRecord {
  draw_id: string;
  group_key: string;
  round: number;
  candidates: string[];
  candidates_digest: string;
  host_region_candidates: string[];
  host_quota: number | null;
  wanted: number;
  counter_start: number;
  counter_end: number;
  selected: string[];
}

/**
 * A round as its row. The id lists go as the newline-joined bytes the digest hashed (a binary parameter) that
 * Postgres splits: node-postgres quotes every element of an array parameter, 4 ms for an 8,500-id candidate list
 * against 1.6 ms for one string. The stored text[] is the same; expert ids are printable ASCII (constraint
 * expert_id_printable_ascii), never a newline.
 */
function roundRow(round: RoundRecord, outcome: RoundOutcome) {
  return {
    ...round,
    candidates: idArray(round.candidates),
    host_region_candidates: idArray(round.host_region_candidates),
    selected: idArray(round.selected),
    outcome,
  };
}

function idArray(ids: readonly string[]): RawBuilder<string[]> {
  return sql<string[]>`string_to_array(convert_from(${joinedOf(ids)}, 'UTF8'), E'\\n')`;
}

const joined = new WeakMap<readonly string[], Buffer>();

/** A list's ids joined (joinIds), made once per list: its digest and its row read the same bytes. */
function joinedOf(ids: readonly string[]): Buffer {
  let bytes = joined.get(ids);
  if (!bytes) joined.set(ids, (bytes = joinedIdsOf(ids)));
  return bytes;
}

/** Invites every seat of a draw not yet invited (the caller holds the draw's lock): answer due after INVITE_TTL, a notification and a timeout job each. */
export async function inviteSeated(
  core: ExpertsCore,
  trx: Transaction<ExpertsDatabase>,
  drawId: string,
): Promise<number> {
  const now = core.clock.now();
  const seats = await trx
    .updateTable('committee_seat')
    .set({ invited_at: now, answer_due_at: new Date(now.getTime() + core.policy.inviteTtlMs) })
    .where('draw_id', '=', drawId)
    .where('status', '=', 'INVITED')
    .where('invited_at', 'is', null)
    .returning('id')
    .execute();
  await writeOutbox<ExpertsDatabase>(
    trx,
    seats.flatMap((seat) => invitationJobs(core, seat.id)),
  );
  return seats.length;
}

/** An invitation's jobs: its notification now, its timeout after INVITE_TTL. */
function invitationJobs(core: ExpertsCore, seatId: string): OutboxMessage[] {
  return [
    { ...DRAW_JOBS.invitation, data: { seatId } },
    { ...DRAW_JOBS.invitationTimeout, data: { seatId }, delayMs: core.policy.inviteTtlMs },
  ];
}

/**
 * Fills one seat of a group, replacing the seat `replaces`, by a new round in a transaction of its own: eligible
 * candidates in SQL, the verifiable selection, the round and its seat written together. `before` runs first in the
 * same transaction, under the draw's row lock (drawReplacement withdraws the old seat there). A lost race on the
 * exclusion constraint records the round as LOST_RACE and selects again from a fresh candidate list. Any outcome
 * but FILLED rolls the transaction back, `before`'s writes with it.
 */
export async function fillGroup(
  core: ExpertsCore,
  drawId: string,
  groupKey: string,
  replaces: string,
  before?: (trx: Transaction<ExpertsDatabase>) => Promise<void>,
): Promise<FillOutcome> {
  for (let attempt = 1; attempt <= MAX_ROUND_ATTEMPTS; attempt++) {
    try {
      return await core.db.transaction().execute(async (trx) => {
        const draw = await trx
          .selectFrom('draw')
          .selectAll()
          .where('id', '=', drawId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        await before?.(trx);
        const outcome = await fillGroupOnce(core, trx, draw, groupKey, replaces, null);
        if (outcome.kind !== 'FILLED') throw new Unfilled(outcome);
        return outcome;
      });
    } catch (error) {
      if (error instanceof Unfilled) return error.outcome;
      if (error instanceof LostRace) await recordLostRace(core, error.round);
      // A deadlock outside the seat inserts rolled back a round nobody saw: it consumed no stream, so just retry.
      else if (sqlState(error) !== DB_ERRORS.deadlockDetected) throw error;
    }
  }
  return {
    kind: 'INSUFFICIENT',
    reason: `group ${groupKey}: lost the race for experts ${MAX_ROUND_ATTEMPTS} times; draw again`,
  };
}

/**
 * A round of one group, for a caller that holds the draw's row lock (`draw` is the locked row): a draw's run
 * (`replaces` null; its seats are invited once every group is filled) or the replacement of the seat `replaces`
 * (one seat, invited at once).
 */
export async function fillGroupOnce(
  core: ExpertsCore,
  trx: Transaction<ExpertsDatabase>,
  draw: Draw,
  groupKey: string,
  replaces: string | null,
  run: DrawRun | null,
): Promise<FillOutcome> {
  const drawId = draw.id;
  const replacing = replaces !== null;
  if (draw.status === 'FAILED' || (draw.status === 'COMPLETED' && !replacing))
    return { kind: 'SKIPPED', why: `the draw is ${draw.status}` };
  const facts = draw.eligibility as EligibilityFacts | null;
  if (!facts) throw new Error(`draw ${drawId} has no eligibility facts yet; run the draw first`);
  // Read after the draw's row lock, in a statement of its own, so it sees what an earlier holder committed.
  const { group, drawSeats, last, seats } = await roundState(trx, drawId, groupKey, facts.hostRegion);
  if (replacing && seats.some((seat) => seat.replaces_seat_id === replaces))
    return { kind: 'SKIPPED', why: `seat ${replaces} is already replaced` };
  const live = seats.filter((seat) => seat.live);
  const missing = group.seats - live.filter((seat) => seat.group_key === groupKey).length;
  const wanted = replacing ? Math.min(1, missing) : missing;
  if (wanted <= 0) return { kind: 'FILLED' };

  const hostQuota = hostQuotaOf(core, facts, drawSeats, live.filter((seat) => seat.host).length);
  const { candidates, hostRegion } = await candidatesOf(core, trx, facts, group, seats, run);
  await core.hooks.candidatesListed?.(drawId, groupKey);
  const hostCandidates = hostCandidatesOf(candidates, hostRegion);
  const selectable = selectableOf(candidates.length, hostCandidates.length, hostQuota);
  if (selectable < wanted) {
    const quotaNote = hostQuota === null ? '' : ` (host-region experts limited to ${hostQuota} more)`;
    return {
      kind: 'INSUFFICIENT',
      reason: `INSUFFICIENT_EXPERTS: group ${group.room_id} × ${group.specialty} needs ${wanted} more expert(s) but only ${selectable} are eligible${quotaNote}; change the seats or the specialty and draw again`,
    };
  }
  const counterStart = last ? Number(last.counter_end) : 0;
  const key = effectiveSeed(Buffer.from(draw.seed!, 'hex'), draw.supervisor_nonce);
  const { selected, counterEnd } = selectRound({
    key,
    groupKey,
    candidates,
    hostRegion,
    hostQuota,
    wanted,
    counterStart,
  });
  const round: RoundRecord = {
    draw_id: drawId,
    group_key: groupKey,
    round: (last?.round ?? 0) + 1,
    candidates,
    candidates_digest: candidatesDigest(candidates, joinedOf(candidates)),
    host_region_candidates: hostCandidates,
    host_quota: hostQuota,
    wanted,
    counter_start: counterStart,
    counter_end: counterEnd,
    selected,
  };
  const now = core.clock.now();
  const seatIds = selected.map(() => core.ids.next('seat'));
  try {
    // The round and its seats in one statement: a seat refused by the exclusion constraint takes the round with it.
    await trx
      .with('recorded', (db) => db.insertInto('draw_round').values(roundRow(round, 'SEATED')))
      .insertInto('committee_seat')
      .values(
        selected.map((expertId, i) => ({
          id: seatIds[i],
          draw_id: drawId,
          project_id: draw.project_id,
          booking_id: group.booking_id,
          room_id: group.room_id,
          specialty: group.specialty,
          round: round.round,
          status: 'INVITED' as const,
          expert_id: expertId,
          during: sql<string>`tstzrange(${draw.starts_at}::timestamptz, ${draw.ends_at}::timestamptz, '[)')`,
          invited_at: replacing ? now : null,
          answer_due_at: replacing ? new Date(now.getTime() + core.policy.inviteTtlMs) : null,
          responded_at: null,
          reason: null,
          group_key: groupKey,
          replaces_seat_id: replaces,
        })),
      )
      .execute();
  } catch (error) {
    // Refused by the constraint, deadlocked, or kept waiting past SEAT_WAIT by another draw's seat of a selected expert.
    if (
      [DB_ERRORS.exclusionViolation, DB_ERRORS.deadlockDetected, DB_ERRORS.lockNotAvailable].includes(
        sqlState(error) as never,
      )
    )
      throw new LostRace(round);
    throw error;
  }
  if (replacing)
    await writeOutbox<ExpertsDatabase>(
      trx,
      seatIds.flatMap((seatId) => invitationJobs(core, seatId)),
    );
  return { kind: 'FILLED' };
}

/**
 * A round's eligible candidates. In a draw's run, the first round evaluates the grounds for its group and every group
 * after it at once (groups of one specialty share one pass over its experts); a later group's first round takes its
 * list from there, less whom the draw has seated since (grounds 6 and 8 would now avoid them). Replacements, and
 * every round after a lost race, evaluate afresh.
 */
async function candidatesOf(
  core: ExpertsCore,
  trx: Transaction<ExpertsDatabase>,
  facts: EligibilityFacts,
  group: DrawGroup,
  seats: readonly { expert_id: string | null; live: boolean; status: SeatStatus }[],
  run: DrawRun | null,
): Promise<EligibleExperts> {
  if (!run)
    return (await eligibleExperts(trx, eligibilityQueryOf(core, facts), [group], core.rosters)).get(group.group_key)!;
  const listed = run.lists.get(group.group_key);
  if (listed) return withoutSeated(listed, seats);
  const fromHere = run.groups.slice(run.groups.findIndex((other) => other.group_key === group.group_key));
  const eligible = await eligibleExperts(trx, eligibilityQueryOf(core, facts), fromHere, core.rosters);
  for (const [key, list] of eligible) if (key !== group.group_key) run.lists.set(key, list);
  return eligible.get(group.group_key)!;
}

/**
 * In one query: a group, the expert seats of its whole draw (the host-region cap counts them), the group's last
 * round, and every seat of the draw with its expert and whether that expert's home is in the host region.
 */
async function roundState(
  trx: Transaction<ExpertsDatabase>,
  drawId: string,
  groupKey: string,
  hostRegion: readonly string[],
) {
  const row = await trx
    .selectFrom('draw_group as g')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('draw_round as r')
          .select(['r.round', 'r.counter_end'])
          .whereRef('r.draw_id', '=', 'g.draw_id')
          .whereRef('r.group_key', '=', 'g.group_key')
          .orderBy('r.round', 'desc')
          .limit(1)
          .as('last'),
      (join) => join.onTrue(),
    )
    .selectAll('g')
    .select(['last.round as last_round', 'last.counter_end as last_counter_end'])
    .select((eb) => [
      eb
        .selectFrom('draw_group as d')
        .select((inner) => inner.fn.sum<string>('d.seats').as('seats'))
        .whereRef('d.draw_id', '=', 'g.draw_id')
        .as('draw_seats'),
      jsonArrayFrom(
        eb
          .selectFrom('committee_seat as s')
          .leftJoin('expert as e', 'e.id', 's.expert_id')
          .select([
            's.expert_id',
            's.group_key',
            's.live',
            's.status',
            's.replaces_seat_id',
            sql<boolean>`coalesce(e.home_platform_id = any(${[...hostRegion]}::text[]), false)`.as('host'),
          ])
          .whereRef('s.draw_id', '=', 'g.draw_id'),
      ).as('draw_seat_rows'),
    ])
    .where('g.draw_id', '=', drawId)
    .where('g.group_key', '=', groupKey)
    .executeTakeFirstOrThrow();
  const { last_round, last_counter_end, draw_seats, draw_seat_rows, ...group } = row;
  const last =
    last_round === null || last_counter_end === null ? null : { round: last_round, counter_end: last_counter_end };
  return { group, drawSeats: Number(draw_seats), last, seats: draw_seat_rows };
}

/** How many more host-region experts a REMOTE draw may seat: floor(HOST_REGION_SHARE × expert seats) minus those seated. */
function hostQuotaOf(core: ExpertsCore, facts: EligibilityFacts, drawSeats: number, hostSeated: number): number | null {
  if (facts.mode !== 'REMOTE') return null;
  const { numerator, denominator } = core.policy.hostRegionShare;
  return Math.max(0, Math.floor((numerator * drawSeats) / denominator) - hostSeated);
}

/** Keeps the record of a round whose seats lost a race, so the stream's use stays verifiable. */
export async function recordLostRace(core: ExpertsCore, round: RoundRecord): Promise<void> {
  await core.db.transaction().execute(async (trx) => {
    await trx.selectFrom('draw').select('id').where('id', '=', round.draw_id).forUpdate().executeTakeFirst();
    const last = await trx
      .selectFrom('draw_round')
      .select('round')
      .where('draw_id', '=', round.draw_id)
      .where('group_key', '=', round.group_key)
      .orderBy('round', 'desc')
      .limit(1)
      .executeTakeFirst();
    // Another run of the same job recorded a round meanwhile: this attempt's stream position is stale, drop it.
    if ((last?.round ?? 0) !== round.round - 1) return;
    await trx.insertInto('draw_round').values(roundRow(round, 'LOST_RACE')).execute();
  });
}
