// Who may not be drawn for a project (DOMAIN.md, 回避): the nine avoidance grounds as a table of named SQL predicates
// over the pool (`expert as e`), so eligibility is one query over the pool, never the pool loaded into memory.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { chinaDay } from '../../lib/china-time';
import { sortCandidates } from './selection';
import type { ExpertsDatabase, SeatStatus } from './types';

/** The project's facts the grounds need: plain data the draw job gathers from the projects and venues domains. */
export interface EligibilityFacts {
  projectId: string;
  tenderer: string;
  agency: string;
  bidders: string[];
  department: string;
  /** The host region: the host platform's subtree, or for a county host its parent city's subtree. */
  hostRegion: string[];
  mode: 'LOCAL' | 'REMOTE';
  /** The evaluation window, ISO-8601. */
  startsAt: string;
  endsAt: string;
  /**
   * The regional rule, per group key: the region codes a seat's expert must come from (a secondary venue's platform
   * subtree, REMOTE only), or null where any home is allowed (the main venue, every group of a LOCAL project).
   */
  pools: { [groupKey: string]: string[] | null };
}

/** The facts plus what the moment of the draw and the configuration add. */
export interface EligibilityQuery extends EligibilityFacts {
  now: Date;
  /** DRAW_LIMIT_30D: an expert is drawn at most this many times in 30 days. */
  drawLimit30d: number;
}

const parties = (q: EligibilityQuery) => [q.tenderer, q.agency, ...q.bidders];

/**
 * A ground, true for an expert who must NOT be drawn for the project: a predicate on the expert's own row, the
 * experts that other tables name (a select of `expert_id`), or both. Named sets are uncorrelated: Postgres computes
 * each once and probes it by hash, where a correlated `exists` per candidate made a draw over a 30,000-expert pool
 * take most of a second.
 */
export interface AvoidanceGroundSql {
  onRow?: (q: EligibilityQuery) => RawBuilder<boolean>;
  named?: (q: EligibilityQuery) => RawBuilder<unknown>;
}

export const AVOIDANCE_GROUNDS = {
  /** 1. Employed now by the tenderer, the agency or any bidder. */
  employedByParty: {
    onRow: (q) => sql<boolean>`e.employer = any(${parties(q)}::text[])`,
    named: (q) => sql`select m.expert_id from employment m where m.organisation = any(${parties(q)}::text[])
      and m.started_on <= ${chinaDay(q.now)}::date and (m.ended_on is null or m.ended_on >= ${chinaDay(q.now)}::date)`,
  },
  /** 2. Employed by, or on the board of, a bidder within the last 3 years. */
  formerlyTiedToBidder: {
    named: (q) => sql`select m.expert_id from employment m where m.organisation = any(${q.bidders}::text[])
      and (m.ended_on is null or m.ended_on >= ${chinaDay(q.now)}::date - interval '3 years')`,
  },
  /** 3. A declared kinship or economic interest in any bidder. */
  declaredConflictWithBidder: {
    named: (q) => sql`select c.expert_id from declared_conflict c where c.organisation = any(${q.bidders}::text[])`,
  },
  /** 4. Staff of the project's supervising department in the project's region. */
  supervisionStaff: {
    onRow: (q) =>
      sql<boolean>`(e.supervision_department = ${q.department} and e.supervision_region = any(${q.hostRegion}::text[]))`,
  },
  /** 5. Suspended (until reinstated, or until the suspension's end), retired, or under a penalty for bidding offences today. */
  suspendedOrPenalised: {
    onRow: (q) =>
      sql<boolean>`(e.status = 'RETIRED' or (e.status = 'SUSPENDED' and (e.suspended_until is null or e.suspended_until > ${q.now}::timestamptz)))`,
    named: (q) => sql`select p.expert_id from penalty p where p.imposed_on <= ${chinaDay(q.now)}::date
      and (p.until is null or p.until >= ${chinaDay(q.now)}::date)`,
  },
  /** 6. Already seated (a live seat) on an evaluation whose window overlaps this one; committee_seat_expert_no_overlap enforces it. */
  seatedOnOverlappingEvaluation: {
    named: (q) => sql`select s.expert_id from committee_seat s where s.expert_id is not null and s.live
      and s.during && tstzrange(${new Date(q.startsAt)}::timestamptz, ${new Date(q.endsAt)}::timestamptz, '[)')`,
  },
  /**
   * 7. Drawn DRAW_LIMIT_30D times already in the last 30 days (so one more would exceed the limit). Seats withdrawn
   *    because their draw failed or their project was cancelled do not count.
   */
  drawnTooOften: {
    named: (q) => sql`select s.expert_id from committee_seat s where s.expert_id is not null and s.status <> 'WITHDRAWN'
      and s.created_at > ${q.now}::timestamptz - interval '30 days'
      group by s.expert_id having count(*) >= ${q.drawLimit30d}`,
  },
  /**
   * 8. Declined an invitation for this same project earlier (an unanswered invitation counts as declined). A member
   *    who withdrew (REPLACED) declined to go on, and is not drawn back either.
   */
  declinedThisProject: {
    named: (
      q,
    ) => sql`select s.expert_id from committee_seat s where s.expert_id is not null and s.project_id = ${q.projectId}
      and s.status in ('DECLINED', 'REPLACED')`,
  },
  /** 9. Declared itself unavailable over a window that overlaps the evaluation's (declareUnavailability, not cancelled). */
  declaredUnavailable: {
    named: (q) => sql`select u.expert_id from unavailability u where u.cancelled_at is null
      and u.during && tstzrange(${new Date(q.startsAt)}::timestamptz, ${new Date(q.endsAt)}::timestamptz, '[)')`,
  },
} as const satisfies Record<string, AvoidanceGroundSql>;

export type AvoidanceGround = keyof typeof AVOIDANCE_GROUNDS;
export const AVOIDANCE_GROUND_NAMES = Object.keys(AVOIDANCE_GROUNDS) as AvoidanceGround[];

/**
 * Whether one ground avoids the expert `e` (a ground that is NULL for an expert, a column it compares being empty,
 * does not avoid), or, for several, whether any of them does.
 */
export function avoidedOn(q: EligibilityQuery, grounds: readonly AvoidanceGround[]): RawBuilder<boolean> {
  const sqlOf: AvoidanceGroundSql[] = grounds.map((name) => AVOIDANCE_GROUNDS[name]);
  const onRow = sqlOf.flatMap((ground) => (ground.onRow ? [sql`coalesce(${ground.onRow(q)}, false)`] : []));
  const named = sqlOf.flatMap((ground) => (ground.named ? [sql`(${ground.named(q)})`] : []));
  // The named sets are probed as one: one hash lookup per expert instead of one per ground.
  const byName = named.length > 0 ? [sql`coalesce(e.id in (${sql.join(named, sql` union all `)}), false)`] : [];
  const any = [...onRow, ...byName];
  return any.length > 0 ? sql<boolean>`(${sql.join(any, sql` or `)})` : sql<boolean>`false`;
}

/** Not avoided on any ground. */
export function notAvoided(q: EligibilityQuery): RawBuilder<boolean> {
  return sql<boolean>`not ${avoidedOn(q, AVOIDANCE_GROUND_NAMES)}`;
}

/** Holds the specialty a group needs. */
export function hasSpecialty(specialty: string): RawBuilder<boolean> {
  return sql<boolean>`e.specialties @> array[${specialty}]::text[]`;
}

/**
 * The regional rule for a seat at a secondary venue of a REMOTE project: the expert's home is in the venue platform's
 * subtree. Null pool: no restriction (the main venue, or any LOCAL project).
 */
export function fromRegion(pool: readonly string[] | null): RawBuilder<boolean> {
  return pool === null ? sql<boolean>`true` : sql<boolean>`e.home_platform_id = any(${[...pool]}::text[])`;
}

/** A group's eligible experts at one moment: its candidate list (sorted by id, step 6 of docs/draw-algorithm.md) and the host-region experts among them. */
export interface EligibleExperts {
  candidates: string[];
  hostRegion: Set<string>;
}

/** The groups whose candidates are listed together: a group key (the key of its regional pool in the facts) and its specialty. */
export interface EligibilityGroup {
  group_key: string;
  specialty: string;
}

/**
 * The eligible experts of each group: one query per specialty over the pool, so groups of one specialty (the main
 * room and the secondary venues, typically) cost one pass over its experts, not one each. The query answers one row
 * of newline-joined ids (all of them, the host-region ones, and those of each group's regional pool, `fromRegion`)
 * rather than a row per expert: reading and collecting 13,000 rows cost node three times the CPU. Ids come unsorted;
 * sorting them in node costs less than `order by id collate "C"` in Postgres.
 *
 * ```ts
 * const eligible = await eligibleExperts(db, { ...facts, now, drawLimit30d: 3 }, [{ group_key: 'room-411700-1/LEGAL', specialty: 'LEGAL' }]);
 * ```
 */
export async function eligibleExperts(
  db: Kysely<ExpertsDatabase>,
  q: EligibilityQuery,
  groups: readonly EligibilityGroup[],
): Promise<Map<string, EligibleExperts>> {
  const eligible = new Map<string, EligibleExperts>();
  for (const specialty of new Set(groups.map((group) => group.specialty))) {
    const ofSpecialty = groups.filter((group) => group.specialty === specialty);
    const pooled = ofSpecialty.filter((group) => (q.pools[group.group_key] ?? null) !== null);
    // Every group has a regional pool: only their regions need reading.
    const anyPool =
      pooled.length === ofSpecialty.length
        ? sql.join(
            pooled.map((group) => fromRegion(q.pools[group.group_key])),
            sql` or `,
          )
        : sql`true`;
    const row = await db
      .selectFrom('expert as e')
      .select([
        sql<string | null>`string_agg(e.id, E'\\n')`.as('ids'),
        sql<
          string | null
        >`string_agg(e.id, E'\\n') filter (where e.home_platform_id = any(${q.hostRegion}::text[]))`.as('host'),
        sql<
          (string | null)[]
        >`array[${sql.join(pooled.map((group) => sql`string_agg(e.id, E'\\n') filter (where ${fromRegion(q.pools[group.group_key])})`))}]::text[]`.as(
          'pools',
        ),
      ])
      .where(hasSpecialty(specialty))
      .where(sql<boolean>`(${anyPool})`)
      .where(notAvoided(q))
      .executeTakeFirstOrThrow();
    const hostRegion = new Set(splitIds(row.host));
    const all = sortCandidates(splitIds(row.ids));
    for (const group of ofSpecialty) {
      const pool = pooled.indexOf(group);
      eligible.set(group.group_key, {
        candidates: pool < 0 ? all : sortCandidates(splitIds(row.pools[pool])),
        hostRegion,
      });
    }
  }
  return eligible;
}

function splitIds(joined: string | null): string[] {
  return joined === null ? [] : joined.split('\n');
}

/**
 * A list made earlier in a draw's run, less the experts the draw has seated since: a live seat of it overlaps this
 * very window (ground 6), a declined or replaced one is this project's (ground 8). Order and the host-region set carry over.
 *
 * ```ts
 * const { candidates } = withoutSeated(listed, [{ expert_id: 'exp-00017', live: true, status: 'INVITED' }]);
 * ```
 */
export function withoutSeated(
  listed: EligibleExperts,
  seats: readonly { expert_id: string | null; live: boolean; status: SeatStatus }[],
): EligibleExperts {
  const seated = new Set(
    seats
      .filter((seat) => seat.live || seat.status === 'DECLINED' || seat.status === 'REPLACED')
      .map((seat) => seat.expert_id),
  );
  return { candidates: listed.candidates.filter((id) => !seated.has(id)), hostRegion: listed.hostRegion };
}
