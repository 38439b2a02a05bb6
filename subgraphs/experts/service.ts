// The experts domain: the province-wide pool, committee draws and the seats they fill.
import { sql, type Kysely, type RawBuilder, type Selectable, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { randomIds, type Clock, type IdGenerator } from '../../lib/clock';
import { hostRegionShare, type HubConfig } from '../../lib/config';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { badInput, conflict, forbidden, hubError, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { writeOutbox, type OutboxMessage } from '../../lib/outbox';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import { avoidedOn, eligibleExperts, withoutSeated, type AvoidanceGround, type EligibilityFacts, type EligibilityQuery, type EligibleExperts } from './eligibility';
import {
  candidatesDigest,
  effectiveSeed,
  groupKeyOf,
  newSeed,
  seedCommitment,
  selectableCount,
  selectRound,
  sha256Hex,
  sortCandidates,
} from './selection';
import type { CommitteeSeatTable, DrawGroupTable, DrawRoundTable, DrawTable, ExpertsDatabase, ExpertTable, RoundOutcome, SealedAccessTable, SeatStatus } from './types';

export type Expert = Selectable<ExpertTable>;
export type Draw = Selectable<DrawTable>;
export type CommitteeSeat = Selectable<CommitteeSeatTable>;
export type DrawGroup = Selectable<DrawGroupTable>;
export type DrawRound = Selectable<DrawRoundTable>;
export type SealedAccess = Selectable<SealedAccessTable>;

/** The configuration a draw obeys (DRAW_LIMIT_30D, HOST_REGION_SHARE, INVITE_TTL). */
export interface DrawPolicy {
  drawLimit30d: number;
  hostRegionShare: { numerator: number; denominator: number };
  inviteTtlMs: number;
}
export const DEFAULT_DRAW_POLICY: DrawPolicy = { drawLimit30d: 3, hostRegionShare: { numerator: 1, denominator: 3 }, inviteTtlMs: 15 * 60_000 };

export function drawPolicyOf(config: HubConfig): DrawPolicy {
  return { drawLimit30d: config.DRAW_LIMIT_30D, hostRegionShare: hostRegionShare(config), inviteTtlMs: config.INVITE_TTL };
}

/** Queues and job names of the work that follows a draw's state changes (handled in jobs/expert-draws.ts, jobs/invitations.ts). */
export const DRAW_JOBS = {
  draw: { queue: 'expert-draws', name: 'draw' },
  replace: { queue: 'expert-draws', name: 'replace' },
  invitationTimeout: { queue: 'expert-draws', name: 'invitation-timeout' },
  committeeComplete: { queue: 'expert-draws', name: 'committee-complete' },
  invitation: { queue: 'notifications', name: 'invitation' },
} as const;

export interface DrawRequest {
  projectId: string;
  hostPlatformId: string;
  hostParentId: string | null;
  department: string;
  mode: 'LOCAL' | 'REMOTE';
  startsAt: Date;
  endsAt: Date;
  supervisorNonce: string | null;
  groups: { bookingId: string; roomId: string; platformId: string; role: 'MAIN' | 'SECONDARY'; specialty: string; seats: number }[];
}

export type FillOutcome = { kind: 'FILLED' } | { kind: 'SKIPPED'; why: string } | { kind: 'INSUFFICIENT'; reason: string };
export type DrawOutcome = { kind: 'SEATED'; seats: number } | { kind: 'SKIPPED'; why: string } | { kind: 'FAILED'; reason: string };

export interface DrawVerification {
  drawId: string;
  matches: boolean;
  detail: string | null;
}

/** An allowed read of a sealed field, for the access audit. */
export interface SealedRead {
  actor: string;
  role: string;
  field: string;
  projectId: string;
  drawId: string;
  seatId: string | null;
  expertId: string;
}

const LIVE_SEAT_STATUSES = ['INVITED', 'ACCEPTED', 'CHECKED_IN'] as const;
/** How many times a draw's run, or a replacement's round, may lose a race for an expert before it gives up (each loss removes a candidate). */
const MAX_ROUND_ATTEMPTS = 40;
/**
 * How long a draw's run waits for another run's uncommitted seat of an expert it selected before its round counts as
 * lost (a run takes tens of milliseconds; a longer wait is a queue of runs, or two runs waiting on each other).
 */
const SEAT_WAIT = '200ms';

/** A draw's run (runDraw): its groups in fill order, and the candidate lists its first round made for later groups. */
interface DrawRun {
  groups: readonly DrawGroup[];
  lists: Map<string, EligibleExperts>;
}

/** A replacement round that filled nothing: thrown out of its transaction so that what ran before it rolls back too. */
class Unfilled extends Error {
  constructor(readonly outcome: Exclude<FillOutcome, { kind: 'FILLED' }>) {
    super('the group was not filled');
  }
}

class LostRace extends Error {
  constructor(readonly round: RoundRecord) {
    super('lost a race for an expert');
  }
}

interface RoundRecord {
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
 * A round as its row. The id lists go as one newline-joined string that Postgres splits: node-postgres quotes every
 * element of an array parameter, 4 ms for an 8,500-id candidate list against 1.6 ms for the string. The stored text[]
 * is the same; expert ids are printable ASCII (constraint expert_id_printable_ascii), never a newline.
 */
function roundRow(round: RoundRecord, outcome: RoundOutcome) {
  return { ...round, candidates: idArray(round.candidates), host_region_candidates: idArray(round.host_region_candidates), selected: idArray(round.selected), outcome };
}

function idArray(ids: readonly string[]): RawBuilder<string[]> {
  return sql<string[]>`string_to_array(${ids.join('\n')}, E'\\n')`;
}

/**
 * Points inside the service's transactions where a fault test stops the process (test/faults/replacement-crash.test.ts):
 * never set in production.
 */
export interface ExpertsServiceHooks {
  /** drawReplacement wrote the old seat REPLACED and has not drawn the new one yet (same transaction, uncommitted). */
  seatWithdrawn?: (seatId: string) => Promise<void>;
}

export class ExpertsService {
  constructor(
    readonly db: Kysely<ExpertsDatabase>,
    readonly clock: Clock,
    readonly policy: DrawPolicy = DEFAULT_DRAW_POLICY,
    private readonly ids: IdGenerator = randomIds,
    private readonly hooks: ExpertsServiceHooks = {},
  ) {}

  expertsByIds(ids: readonly string[]): Promise<Expert[]> {
    return this.db.selectFrom('expert').selectAll().where('id', 'in', [...ids]).execute();
  }

  /** Pool administration: the experts whose home platform is `platformId`, optionally of one specialty, by code. */
  async listExperts(args: { platformId: string; specialty?: string | null; first?: number | null; after?: string | null }): Promise<Connection<Expert>> {
    const limit = pageSize(args.first);
    const cursor = decodeCursor(args.after, 1);
    let query = this.db.selectFrom('expert').where('home_platform_id', '=', args.platformId);
    if (args.specialty) query = query.where(sql<boolean>`specialties @> array[${args.specialty}]::text[]`);
    const total = await query.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    let page = query.selectAll();
    if (cursor) page = page.where('code', '>', String(cursor[0]));
    const rows = await page.orderBy('code').limit(limit + 1).execute();
    return toConnection(rows, limit, Number(total.count), (row) => [row.code]);
  }

  drawsByIds(ids: readonly string[]): Promise<Draw[]> {
    return this.db.selectFrom('draw').selectAll().where('id', 'in', [...ids]).execute();
  }

  async getDraw(id: string): Promise<Draw> {
    const draw = await this.db.selectFrom('draw').selectAll().where('id', '=', id).executeTakeFirst();
    if (!draw) throw notFound('draw', id);
    return draw;
  }

  /** The latest draw of each project. */
  latestDrawsOfProjects(projectIds: readonly string[]): Promise<Draw[]> {
    return this.db
      .selectFrom('draw')
      .selectAll()
      .distinctOn('project_id')
      .where('project_id', 'in', [...projectIds])
      .orderBy('project_id')
      .orderBy('requested_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  seatsByIds(ids: readonly string[]): Promise<CommitteeSeat[]> {
    return this.db.selectFrom('committee_seat').selectAll().where('id', 'in', [...ids]).execute();
  }

  async getSeat(id: string): Promise<CommitteeSeat> {
    const seat = await this.db.selectFrom('committee_seat').selectAll().where('id', '=', id).executeTakeFirst();
    if (!seat) throw notFound('committee seat', id);
    return seat;
  }

  seatsOfDraws(drawIds: readonly string[]): Promise<CommitteeSeat[]> {
    return this.db
      .selectFrom('committee_seat')
      .selectAll()
      .where('draw_id', 'in', [...drawIds])
      .orderBy('draw_id')
      .orderBy('room_id')
      .orderBy('specialty')
      .orderBy('round')
      .orderBy('id')
      .execute();
  }

  /** Every seat of a project's draws, for the workflow steps that follow (check-in, evaluation, replacement). */
  seatsOfProject(projectId: string, options: { liveOnly?: boolean } = {}): Promise<CommitteeSeat[]> {
    let query = this.db.selectFrom('committee_seat').selectAll().where('project_id', '=', projectId);
    if (options.liveOnly) query = query.where('live', '=', true);
    return query.orderBy('created_at').orderBy('id').execute();
  }

  /** An expert's invitations, newest first (seats whose invitation was sent). */
  invitationsOfExpert(expertId: string): Promise<CommitteeSeat[]> {
    return this.db
      .selectFrom('committee_seat')
      .selectAll()
      .where('expert_id', '=', expertId)
      .where('invited_at', 'is not', null)
      .orderBy('invited_at', 'desc')
      .orderBy('id')
      .execute();
  }

  groupsOfDraw(drawId: string): Promise<DrawGroup[]> {
    return this.db.selectFrom('draw_group').selectAll().where('draw_id', '=', drawId).orderBy(sql`group_key collate "C"`).execute();
  }

  roundsOfDraw(drawId: string): Promise<DrawRound[]> {
    return this.db.selectFrom('draw_round').selectAll().where('draw_id', '=', drawId).orderBy(sql`group_key collate "C"`).orderBy('round').execute();
  }

  // ------------------------------------------------------------------ requesting and running a draw

  /**
   * Creates a PENDING draw with a fresh CSPRNG seed; only its commitment is published. The groups (room × specialty)
   * say how many experts of which specialty sit in which room.
   *
   * ```ts
   * const draw = await experts.requestDraw({ projectId, hostPlatformId: '411700', hostParentId: '410000', department: 'FINANCE',
   *   mode: 'REMOTE', startsAt, endsAt, supervisorNonce: null, groups: [{ bookingId, roomId, platformId, role: 'MAIN', specialty: 'LEGAL', seats: 2 }] });
   * ```
   */
  async requestDraw(request: DrawRequest): Promise<Draw> {
    const seed = newSeed();
    const id = this.ids.next('drw');
    // One statement inserts the draw and its groups, atomically, in one round trip.
    return this.db
      .with('requested', (db) =>
        db
          .insertInto('draw')
          .values({
            id,
            project_id: request.projectId,
            status: 'PENDING',
            seed_commitment: seedCommitment(seed),
            seed: seed.toString('hex'),
            supervisor_nonce: request.supervisorNonce,
            failure_reason: null,
            starts_at: request.startsAt,
            ends_at: request.endsAt,
            completed_at: null,
            host_platform_id: request.hostPlatformId,
            host_parent_id: request.hostParentId,
            department: request.department,
            mode: request.mode,
          })
          .returningAll(),
      )
      .with('grouped', (db) =>
        db.insertInto('draw_group').values(
          request.groups.map((group) => ({
            draw_id: id,
            group_key: groupKeyOf(group.roomId, group.specialty),
            booking_id: group.bookingId,
            room_id: group.roomId,
            platform_id: group.platformId,
            role: group.role,
            specialty: group.specialty,
            seats: group.seats,
          })),
        ),
      )
      .selectFrom('requested')
      .selectAll()
      .executeTakeFirstOrThrow();
  }

  /** Marks a draw FAILED with its reason and releases its live seats; nothing stays reserved. */
  async failDraw(drawId: string, reason: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const draw = await trx.selectFrom('draw').select(['id', 'status']).where('id', '=', drawId).forUpdate().executeTakeFirst();
      if (!draw || draw.status === 'FAILED') return;
      await this.markFailed(trx, drawId, reason);
    });
  }

  /** failDraw's writes, for a caller that holds the draw's row lock. */
  private async markFailed(trx: Transaction<ExpertsDatabase>, drawId: string, reason: string): Promise<void> {
    await trx.updateTable('draw').set({ status: 'FAILED', failure_reason: reason, completed_at: this.clock.now() }).where('id', '=', drawId).execute();
    await trx
      .updateTable('committee_seat')
      .set({ status: 'WITHDRAWN', reason: `draw failed: ${reason}` })
      .where('draw_id', '=', drawId)
      .where('status', 'in', [...LIVE_SEAT_STATUSES])
      .execute();
  }

  /**
   * Runs a PENDING draw: fills every group in group-key order by verifiable rounds, then sends the invitations, all in
   * one transaction under the draw's row lock. If a group cannot be filled, the draw FAILS with INSUFFICIENT_EXPERTS'
   * reason and its seats are released. A round that loses a race for an expert rolls the whole run back (nobody saw
   * its other rounds, which consumed no stream) and is recorded as LOST_RACE; the run then starts again from fresh
   * candidate lists. Idempotent: a rerun fills only what is missing, and a draw no longer PENDING is left alone.
   */
  async runDraw(drawId: string, facts: EligibilityFacts): Promise<DrawOutcome> {
    let lost: RoundRecord | null = null;
    for (let attempt = 1; attempt <= MAX_ROUND_ATTEMPTS; attempt++) {
      try {
        return await this.db.transaction().execute((trx) => this.runDrawOnce(trx, drawId, facts));
      } catch (error) {
        if (error instanceof LostRace) {
          lost = error.round;
          await this.recordLostRace(error.round);
        }
        // A deadlock or lock timeout outside the seat inserts rolled back rounds nobody saw: they consumed no stream, so just retry.
        else if (sqlState(error) !== DB_ERRORS.deadlockDetected && sqlState(error) !== DB_ERRORS.lockNotAvailable) throw error;
      }
    }
    const reason = `group ${lost?.group_key ?? '?'}: lost the race for experts ${MAX_ROUND_ATTEMPTS} times; draw again`;
    await this.failDraw(drawId, reason);
    return { kind: 'FAILED', reason };
  }

  private async runDrawOnce(trx: Transaction<ExpertsDatabase>, drawId: string, facts: EligibilityFacts): Promise<DrawOutcome> {
    // One statement: the draw's row lock, its facts fixed by the first run (a rerun keeps them), and its groups. Once
    // the row is locked (the select list is evaluated for the row the update returns), the run waits at most
    // SEAT_WAIT for another draw's uncommitted seat of the same expert: the whole run holds its seats until it
    // commits, and two runs waiting on each other's seats would otherwise wait out Postgres's deadlock_timeout (1 s).
    const row = await trx
      .with('fixed', (db) =>
        db
          .updateTable('draw')
          .set({ eligibility: sql`coalesce(eligibility, ${JSON.stringify(facts)}::jsonb)` })
          .where('id', '=', drawId)
          .returningAll(),
      )
      .selectFrom('fixed')
      .selectAll('fixed')
      .select((eb) => jsonArrayFrom(eb.selectFrom('draw_group as g').selectAll('g').whereRef('g.draw_id', '=', 'fixed.id').orderBy(sql`g.group_key collate "C"`)).as('groups'))
      .select(sql<string>`set_config('lock_timeout', ${SEAT_WAIT}, true)`.as('lock_timeout'))
      .executeTakeFirst();
    if (!row) throw notFound('draw', drawId);
    const { groups, lock_timeout: _, ...draw } = row;
    if (draw.status !== 'PENDING') return { kind: 'SKIPPED', why: `the draw is ${draw.status}` };
    const run: DrawRun = { groups, lists: new Map() };
    for (const group of run.groups) {
      const outcome = await this.fillGroupOnce(trx, draw, group.group_key, null, run);
      if (outcome.kind === 'INSUFFICIENT') {
        await this.markFailed(trx, drawId, outcome.reason);
        return { kind: 'FAILED', reason: outcome.reason };
      }
      if (outcome.kind === 'SKIPPED') return outcome;
    }
    return { kind: 'SEATED', seats: await this.inviteSeated(trx, drawId) };
  }

  /** Invites every seat of a draw not yet invited (the caller holds the draw's lock): answer due after INVITE_TTL, a notification and a timeout job each. */
  private async inviteSeated(trx: Transaction<ExpertsDatabase>, drawId: string): Promise<number> {
    const now = this.clock.now();
    const seats = await trx
      .updateTable('committee_seat')
      .set({ invited_at: now, answer_due_at: new Date(now.getTime() + this.policy.inviteTtlMs) })
      .where('draw_id', '=', drawId)
      .where('status', '=', 'INVITED')
      .where('invited_at', 'is', null)
      .returning('id')
      .execute();
    await writeOutbox<ExpertsDatabase>(trx, seats.flatMap((seat) => this.invitationJobs(seat.id)));
    return seats.length;
  }

  /** An invitation's jobs: its notification now, its timeout after INVITE_TTL. */
  private invitationJobs(seatId: string): OutboxMessage[] {
    return [
      { ...DRAW_JOBS.invitation, data: { seatId } },
      { ...DRAW_JOBS.invitationTimeout, data: { seatId }, delayMs: this.policy.inviteTtlMs },
    ];
  }

  /**
   * Fills one seat of a group, replacing the seat `replaces`, by a new round in a transaction of its own: eligible
   * candidates in SQL, the verifiable selection, the round and its seat written together. `before` runs first in the
   * same transaction, under the draw's row lock (drawReplacement withdraws the old seat there). A lost race on the
   * exclusion constraint records the round as LOST_RACE and selects again from a fresh candidate list. Any outcome
   * but FILLED rolls the transaction back, `before`'s writes with it.
   */
  private async fillGroup(drawId: string, groupKey: string, replaces: string, before?: (trx: Transaction<ExpertsDatabase>) => Promise<void>): Promise<FillOutcome> {
    for (let attempt = 1; attempt <= MAX_ROUND_ATTEMPTS; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const draw = await trx.selectFrom('draw').selectAll().where('id', '=', drawId).forUpdate().executeTakeFirstOrThrow();
          await before?.(trx);
          const outcome = await this.fillGroupOnce(trx, draw, groupKey, replaces, null);
          if (outcome.kind !== 'FILLED') throw new Unfilled(outcome);
          return outcome;
        });
      } catch (error) {
        if (error instanceof Unfilled) return error.outcome;
        if (error instanceof LostRace) await this.recordLostRace(error.round);
        // A deadlock outside the seat inserts rolled back a round nobody saw: it consumed no stream, so just retry.
        else if (sqlState(error) !== DB_ERRORS.deadlockDetected) throw error;
      }
    }
    return { kind: 'INSUFFICIENT', reason: `group ${groupKey}: lost the race for experts ${MAX_ROUND_ATTEMPTS} times; draw again` };
  }

  /**
   * A round of one group, for a caller that holds the draw's row lock (`draw` is the locked row): a draw's run
   * (`replaces` null; its seats are invited once every group is filled) or the replacement of the seat `replaces`
   * (one seat, invited at once).
   */
  private async fillGroupOnce(
    trx: Transaction<ExpertsDatabase>,
    draw: Draw,
    groupKey: string,
    replaces: string | null,
    run: DrawRun | null,
  ): Promise<FillOutcome> {
    const drawId = draw.id;
    const replacing = replaces !== null;
    if (draw.status === 'FAILED' || (draw.status === 'COMPLETED' && !replacing)) return { kind: 'SKIPPED', why: `the draw is ${draw.status}` };
    const facts = draw.eligibility as EligibilityFacts | null;
    if (!facts) throw new Error(`draw ${drawId} has no eligibility facts yet; run the draw first`);
    // Read after the draw's row lock, in a statement of its own, so it sees what an earlier holder committed.
    const { group, drawSeats, last, seats } = await this.roundState(trx, drawId, groupKey, facts.hostRegion);
    if (replacing && seats.some((seat) => seat.replaces_seat_id === replaces)) return { kind: 'SKIPPED', why: `seat ${replaces} is already replaced` };
    const live = seats.filter((seat) => seat.live);
    const missing = group.seats - live.filter((seat) => seat.group_key === groupKey).length;
    const wanted = replacing ? Math.min(1, missing) : missing;
    if (wanted <= 0) return { kind: 'FILLED' };

    const hostQuota = this.hostQuota(facts, drawSeats, live.filter((seat) => seat.host).length);
    const { candidates, hostRegion } = await this.candidatesOf(trx, facts, group, seats, run);
    const selectable = selectableCount(candidates, hostRegion, hostQuota);
    if (selectable < wanted) {
      const quotaNote = hostQuota === null ? '' : ` (host-region experts limited to ${hostQuota} more)`;
      return {
        kind: 'INSUFFICIENT',
        reason: `INSUFFICIENT_EXPERTS: group ${group.room_id} × ${group.specialty} needs ${wanted} more expert(s) but only ${selectable} are eligible${quotaNote}; change the seats or the specialty and draw again`,
      };
    }
    const counterStart = last ? Number(last.counter_end) : 0;
    const key = effectiveSeed(Buffer.from(draw.seed!, 'hex'), draw.supervisor_nonce);
    const { selected, counterEnd } = selectRound({ key, groupKey, candidates, hostRegion, hostQuota, wanted, counterStart });
    const round: RoundRecord = {
      draw_id: drawId,
      group_key: groupKey,
      round: (last?.round ?? 0) + 1,
      candidates,
      candidates_digest: candidatesDigest(candidates),
      host_region_candidates: candidates.filter((id) => hostRegion.has(id)),
      host_quota: hostQuota,
      wanted,
      counter_start: counterStart,
      counter_end: counterEnd,
      selected,
    };
    const now = this.clock.now();
    const seatIds = selected.map(() => this.ids.next('seat'));
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
            answer_due_at: replacing ? new Date(now.getTime() + this.policy.inviteTtlMs) : null,
            responded_at: null,
            reason: null,
            group_key: groupKey,
            replaces_seat_id: replaces,
          })),
        )
        .execute();
    } catch (error) {
      // Refused by the constraint, deadlocked, or kept waiting past SEAT_WAIT by another draw's seat of a selected expert.
      if ([DB_ERRORS.exclusionViolation, DB_ERRORS.deadlockDetected, DB_ERRORS.lockNotAvailable].includes(sqlState(error) as never)) throw new LostRace(round);
      throw error;
    }
    if (replacing) await writeOutbox<ExpertsDatabase>(trx, seatIds.flatMap((seatId) => this.invitationJobs(seatId)));
    return { kind: 'FILLED' };
  }

  /**
   * A round's eligible candidates. In a draw's run, the first round evaluates the grounds for its group and every group
   * after it at once (groups of one specialty share one pass over its experts); a later group's first round takes its
   * list from there, less whom the draw has seated since (grounds 6 and 8 would now avoid them). Replacements, and
   * every round after a lost race, evaluate afresh.
   */
  private async candidatesOf(
    trx: Transaction<ExpertsDatabase>,
    facts: EligibilityFacts,
    group: DrawGroup,
    seats: readonly { expert_id: string | null; live: boolean; status: SeatStatus }[],
    run: DrawRun | null,
  ): Promise<EligibleExperts> {
    if (!run) return (await eligibleExperts(trx, this.eligibilityQuery(facts), [group])).get(group.group_key)!;
    const listed = run.lists.get(group.group_key);
    if (listed) return withoutSeated(listed, seats);
    const fromHere = run.groups.slice(run.groups.findIndex((other) => other.group_key === group.group_key));
    const eligible = await eligibleExperts(trx, this.eligibilityQuery(facts), fromHere);
    for (const [key, list] of eligible) if (key !== group.group_key) run.lists.set(key, list);
    return eligible.get(group.group_key)!;
  }

  /** The grounds' parameters for a draw's facts, now. */
  private eligibilityQuery(facts: EligibilityFacts): EligibilityQuery {
    return { ...facts, now: this.clock.now(), drawLimit30d: this.policy.drawLimit30d };
  }

  /**
   * In one query: a group, the expert seats of its whole draw (the host-region cap counts them), the group's last
   * round, and every seat of the draw with its expert and whether that expert's home is in the host region.
   */
  private async roundState(trx: Transaction<ExpertsDatabase>, drawId: string, groupKey: string, hostRegion: readonly string[]) {
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
        eb.selectFrom('draw_group as d').select((inner) => inner.fn.sum<string>('d.seats').as('seats')).whereRef('d.draw_id', '=', 'g.draw_id').as('draw_seats'),
        jsonArrayFrom(
          eb
            .selectFrom('committee_seat as s')
            .leftJoin('expert as e', 'e.id', 's.expert_id')
            .select(['s.expert_id', 's.group_key', 's.live', 's.status', 's.replaces_seat_id', sql<boolean>`coalesce(e.home_platform_id = any(${[...hostRegion]}::text[]), false)`.as('host')])
            .whereRef('s.draw_id', '=', 'g.draw_id'),
        ).as('draw_seat_rows'),
      ])
      .where('g.draw_id', '=', drawId)
      .where('g.group_key', '=', groupKey)
      .executeTakeFirstOrThrow();
    const { last_round, last_counter_end, draw_seats, draw_seat_rows, ...group } = row;
    const last = last_round === null || last_counter_end === null ? null : { round: last_round, counter_end: last_counter_end };
    return { group, drawSeats: Number(draw_seats), last, seats: draw_seat_rows };
  }

  /** How many more host-region experts a REMOTE draw may seat: floor(HOST_REGION_SHARE × expert seats) minus those seated. */
  private hostQuota(facts: EligibilityFacts, drawSeats: number, hostSeated: number): number | null {
    if (facts.mode !== 'REMOTE') return null;
    const { numerator, denominator } = this.policy.hostRegionShare;
    return Math.max(0, Math.floor((numerator * drawSeats) / denominator) - hostSeated);
  }

  /** Keeps the record of a round whose seats lost a race, so the stream's use stays verifiable. */
  private async recordLostRace(round: RoundRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
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

  // ------------------------------------------------------------------ invitations and replacements

  /**
   * An invited expert accepts, or declines with a reason. Only the expert of the seat may answer. A decline starts the
   * replacement; the last acceptance of a draw starts the committee's confirmation.
   */
  async respondToInvitation(identity: Identity, seatId: string, accept: boolean, reason: string | null): Promise<CommitteeSeat> {
    if (identity.role !== 'EXPERT') throw forbidden(`only the invited EXPERT may answer an invitation; your role is ${identity.role}`);
    const trimmed = reason?.trim() || null;
    if (!accept && !trimmed) throw badInput('reason', 'say why you decline the invitation');
    if (trimmed && trimmed.length > 2000) throw badInput('reason', 'must be at most 2000 characters');
    const seat = await this.getSeat(seatId);
    if (seat.expert_id !== identity.expert) throw forbidden('this invitation is not yours; answer only your own invitations (myInvitations)');
    return this.db.transaction().execute(async (trx) => {
      // The draw's row lock serialises answers, so exactly one of them sees the committee complete.
      const draw = await trx.selectFrom('draw').selectAll().where('id', '=', seat.draw_id).forUpdate().executeTakeFirstOrThrow();
      const current = await trx.selectFrom('committee_seat').selectAll().where('id', '=', seatId).forUpdate().executeTakeFirstOrThrow();
      if (current.status !== 'INVITED' || current.invited_at === null) throw conflict(`this invitation is ${current.status} and takes no answer now`);
      const now = this.clock.now();
      if (current.answer_due_at && current.answer_due_at <= now) throw conflict('this invitation expired unanswered and counts as declined');
      const updated = await trx
        .updateTable('committee_seat')
        .set({ status: accept ? 'ACCEPTED' : 'DECLINED', responded_at: now, reason: trimmed })
        .where('id', '=', seatId)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (!accept) await writeOutbox<ExpertsDatabase>(trx, { ...DRAW_JOBS.replace, data: { seatId } });
      else if (draw.status === 'PENDING' && (await this.everySeatAccepted(trx, draw.id))) {
        await writeOutbox<ExpertsDatabase>(trx, { ...DRAW_JOBS.committeeComplete, data: { drawId: draw.id } });
      }
      return updated;
    });
  }

  /** Every group of the draw is full and every live seat ACCEPTED (checked-in seats count as accepted). */
  private async everySeatAccepted(db: Kysely<ExpertsDatabase>, drawId: string): Promise<boolean> {
    const wanted = await db.selectFrom('draw_group').select((eb) => eb.fn.sum<string>('seats').as('seats')).where('draw_id', '=', drawId).executeTakeFirstOrThrow();
    const seats = await db
      .selectFrom('committee_seat')
      .select(['status'])
      .where('draw_id', '=', drawId)
      .where('live', '=', true)
      .execute();
    return seats.length === Number(wanted.seats) && seats.every((seat) => seat.status === 'ACCEPTED' || seat.status === 'CHECKED_IN');
  }

  committeeComplete(drawId: string): Promise<boolean> {
    return this.everySeatAccepted(this.db, drawId);
  }

  /** An invitation unanswered within INVITE_TTL counts as declined and starts a replacement. Throws while not yet due. */
  async expireInvitation(seatId: string): Promise<'DECLINED' | 'ANSWERED'> {
    const seat = await this.getSeat(seatId);
    return this.db.transaction().execute(async (trx) => {
      await trx.selectFrom('draw').select('id').where('id', '=', seat.draw_id).forUpdate().executeTakeFirstOrThrow();
      const current = await trx.selectFrom('committee_seat').selectAll().where('id', '=', seatId).forUpdate().executeTakeFirstOrThrow();
      if (current.status !== 'INVITED') return 'ANSWERED';
      const now = this.clock.now();
      if (!current.answer_due_at || current.answer_due_at > now) throw new Error(`invitation ${seatId} is not due yet; retry later`);
      await trx
        .updateTable('committee_seat')
        .set({ status: 'DECLINED', responded_at: now, reason: `no answer within ${Math.round(this.policy.inviteTtlMs / 1000)} s (INVITE_TTL)` })
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
  async replaceDeclinedSeat(seatId: string): Promise<DrawOutcome> {
    const seat = await this.getSeat(seatId);
    if (seat.status !== 'DECLINED' || !seat.group_key) return { kind: 'SKIPPED', why: `seat ${seatId} is ${seat.status}` };
    const draw = await this.getDraw(seat.draw_id);
    if (draw.status !== 'PENDING') return { kind: 'SKIPPED', why: `the draw is ${draw.status}` };
    const outcome = await this.fillGroup(draw.id, seat.group_key, seatId);
    if (outcome.kind === 'INSUFFICIENT') {
      await this.failDraw(draw.id, outcome.reason);
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
  async drawReplacement(seatId: string, reason: string): Promise<CommitteeSeat> {
    const trimmed = reason.trim();
    if (!trimmed) throw badInput('reason', 'say why the member is replaced');
    const seat = await this.getSeat(seatId);
    if (!seat.group_key) throw conflict(`seat ${seatId} belongs to no draw group; it cannot be replaced by a draw`);
    const groupKey = seat.group_key;
    const outcome = await this.fillGroup(seat.draw_id, groupKey, seatId, async (trx) => {
      // Under the draw's row lock: the seat's status now, not as read before the lock.
      const withdrawn = await trx
        .updateTable('committee_seat')
        .set({ status: 'REPLACED', reason: trimmed, responded_at: this.clock.now() })
        .where('id', '=', seatId)
        .where('status', 'in', [...LIVE_SEAT_STATUSES])
        .returning('id')
        .executeTakeFirst();
      if (!withdrawn) {
        const current = await trx.selectFrom('committee_seat').select('status').where('id', '=', seatId).executeTakeFirstOrThrow();
        throw conflict(`seat ${seatId} is ${current.status}; only a live seat (${LIVE_SEAT_STATUSES.join(', ')}) can be replaced`);
      }
      await this.hooks.seatWithdrawn?.(seatId);
    });
    if (outcome.kind === 'INSUFFICIENT') throw hubError('INSUFFICIENT_EXPERTS', outcome.reason);
    if (outcome.kind === 'SKIPPED') throw conflict(`seat ${seatId} cannot be replaced: ${outcome.why}`);
    return this.db.selectFrom('committee_seat').selectAll().where('replaces_seat_id', '=', seatId).executeTakeFirstOrThrow();
  }

  /**
   * Once the committee is confirmed: the draw COMPLETES. Its seed stays sealed until the evaluation starts
   * (unsealCommittee; experts/sealing.ts): with it, the candidate digests and the pool, the committee can be recomputed.
   */
  async completeDraw(drawId: string): Promise<void> {
    const draw = await this.db
      .updateTable('draw')
      .set({ status: 'COMPLETED', completed_at: this.clock.now() })
      .where('id', '=', drawId)
      .where('status', 'in', ['PENDING', 'COMPLETED'])
      .returning(['id'])
      .executeTakeFirst();
    if (!draw) throw conflict(`draw ${drawId} failed; it cannot complete`);
  }

  /** The evaluation started: from now on the host's operators and the project's supervisors see the committee, and the seeds are revealed. */
  async unsealCommittee(projectId: string): Promise<void> {
    await this.db
      .updateTable('draw')
      .set({ unsealed_at: this.clock.now(), seed_revealed: true })
      .where('project_id', '=', projectId)
      .where('status', '<>', 'FAILED')
      .where('unsealed_at', 'is', null)
      .execute();
  }

  /** The project was cancelled: its live seats are released and a pending draw fails. */
  async withdrawProjectSeats(projectId: string, reason = 'project cancelled'): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await trx.updateTable('draw').set({ status: 'FAILED', failure_reason: reason, completed_at: this.clock.now() }).where('project_id', '=', projectId).where('status', '=', 'PENDING').execute();
      const released = await trx
        .updateTable('committee_seat')
        .set({ status: 'WITHDRAWN', reason })
        .where('project_id', '=', projectId)
        .where('status', 'in', [...LIVE_SEAT_STATUSES])
        .executeTakeFirst();
      return Number(released.numUpdatedRows);
    });
  }

  // ------------------------------------------------------------------ eligibility, verification, audit

  /** Which of these experts one avoidance ground excludes for a project (the grounds' own test hook, and a diagnosis tool). */
  async expertsAvoidedBy(ground: AvoidanceGround, facts: EligibilityFacts, expertIds: readonly string[]): Promise<string[]> {
    const query = this.eligibilityQuery(facts);
    const rows = await this.db
      .selectFrom('expert as e')
      .select('e.id')
      .where('e.id', 'in', expertIds.length > 0 ? [...expertIds] : [''])
      .where(avoidedOn(query, [ground]))
      .orderBy(sql`e.id collate "C"`)
      .execute();
    return rows.map((row) => row.id);
  }

  /**
   * Recomputes every round of a draw from what was stored: the seed against its commitment, each candidate list
   * against its digest, each selection from the stream (continued across rounds), and each SEATED round's seats.
   */
  async verifyDraw(drawId: string): Promise<DrawVerification> {
    const draw = await this.getDraw(drawId);
    const fail = (detail: string): DrawVerification => ({ drawId, matches: false, detail });
    if (!draw.seed || !/^[0-9a-f]{64}$/.test(draw.seed)) return fail('the stored seed is missing or malformed');
    const seed = Buffer.from(draw.seed, 'hex');
    if (sha256Hex(seed) !== draw.seed_commitment) return fail('sha256(seed) does not equal the published commitment');
    const key = effectiveSeed(seed, draw.supervisor_nonce);
    const rounds = await this.roundsOfDraw(drawId);
    const seats = await this.seatsOfDraws([drawId]);
    const counters = new Map<string, number>();
    const roundsSeen = new Map<string, number>();
    for (const round of rounds) {
      const label = `group ${round.group_key} round ${round.round}`;
      const expectedRound = (roundsSeen.get(round.group_key) ?? 0) + 1;
      if (round.round !== expectedRound) return fail(`${label}: rounds are not consecutive (expected round ${expectedRound})`);
      roundsSeen.set(round.group_key, expectedRound);
      const sorted = sortCandidates(round.candidates);
      if (sorted.length !== round.candidates.length || sorted.some((id, i) => id !== round.candidates[i])) return fail(`${label}: the candidate list is not sorted by expert id`);
      if (candidatesDigest(round.candidates) !== round.candidates_digest) return fail(`${label}: the candidate list does not match its digest`);
      const start = counters.get(round.group_key) ?? 0;
      if (Number(round.counter_start) !== start) return fail(`${label}: the stream does not continue where the previous round ended`);
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
      if (result.counterEnd !== Number(round.counter_end)) return fail(`${label}: the stream position after the round differs`);
      if (result.selected.length !== round.selected.length || result.selected.some((id, i) => id !== round.selected[i])) return fail(`${label}: the recomputed selection differs from the recorded one`);
      if (round.outcome === 'SEATED') {
        const seated = seats.filter((seat) => seat.group_key === round.group_key && seat.round === round.round).map((seat) => seat.expert_id ?? '');
        if (sortCandidates(seated).join() !== sortCandidates(result.selected).join() || seated.length !== result.selected.length) {
          return fail(`${label}: the seats do not hold the experts the round selected`);
        }
      }
    }
    for (const seat of seats) {
      if (!rounds.some((round) => round.outcome === 'SEATED' && round.group_key === seat.group_key && round.round === seat.round)) {
        return fail(`seat ${seat.id} was not created by any recorded round`);
      }
    }
    return { drawId, matches: true, detail: `${rounds.length} round(s) recomputed from the stored candidate lists and the seed` };
  }

  /**
   * Writes allowed reads of sealed fields to the access audit, one row per (actor, seat, field, minute) counting its
   * reads: repeated reads (aliases, pages, polling) add to the row's count instead of adding rows, so an audit grows
   * with the minutes someone reads, not with the size of their queries (SECURITY.md).
   */
  async recordSealedReads(reads: readonly SealedRead[]): Promise<void> {
    if (reads.length === 0) return;
    const now = this.clock.now();
    const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
    // One statement cannot update a row twice: the reads of one batch are counted per key first.
    const rows = new Map<string, SealedRead & { reads: number }>();
    for (const read of reads) {
      const key = JSON.stringify([read.actor, read.drawId, read.seatId, read.field]);
      const row = rows.get(key);
      if (row) row.reads += 1;
      else rows.set(key, { ...read, reads: 1 });
    }
    await this.db
      .insertInto('sealed_access')
      .values(
        [...rows.values()].map((read) => ({
          at: now,
          last_at: now,
          minute,
          reads: read.reads,
          actor: read.actor,
          role: read.role,
          field: read.field,
          project_id: read.projectId,
          draw_id: read.drawId,
          seat_id: read.seatId,
          expert_id: read.expertId,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['actor', 'draw_id', 'seat_id', 'field', 'minute'])
          .where('minute', 'is not', null)
          .doUpdateSet((eb) => ({ reads: sql<number>`${eb.ref('sealed_access.reads')} + ${eb.ref('excluded.reads')}`, last_at: eb.ref('excluded.last_at') })),
      )
      .execute();
  }

  /** The access audit of a project, oldest first. */
  accessAuditOfProject(projectId: string): Promise<SealedAccess[]> {
    return this.db.selectFrom('sealed_access').selectAll().where('project_id', '=', projectId).orderBy('at').orderBy('id').execute();
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.db);
    return true;
  }
}
