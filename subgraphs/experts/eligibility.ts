// Who may not be drawn for a project (DOMAIN.md, 回避): the nine avoidance grounds as a table of named SQL predicates
// over the pool (`expert as e`), each rule written once; and a draw's candidates: a specialty's roster, kept by the
// process under the roster version (decision 0008), less everyone some ground avoids.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { chinaDay } from '../../lib/china-time';
import { joinIds } from './selection';
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

/**
 * Everyone some ground avoids for the project, as one set (a select of one id column, duplicates possible): each
 * ground's named experts, and those its row predicate picks, asked for through the expert table's indexes (employer,
 * supervision, status) rather than evaluated per candidate. Grounds are few and small next to a specialty's roster.
 */
export function avoidedExperts(q: EligibilityQuery): RawBuilder<{ id: string }> {
  const sets = AVOIDANCE_GROUND_NAMES.flatMap((name) => {
    const ground: AvoidanceGroundSql = AVOIDANCE_GROUNDS[name];
    return [
      ...(ground.named ? [sql`(${ground.named(q)})`] : []),
      ...(ground.onRow ? [sql`(select e.id from expert e where ${ground.onRow(q)})`] : []),
    ];
  });
  return sql<{ id: string }>`${sql.join(sets, sql` union all `)}`;
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

/** A specialty's roster: every expert holding it, by id in ascending byte order, and their positions by home platform. */
interface Roster {
  ids: string[];
  /** Home platform → the positions in `ids` of the experts living there, ascending. */
  byHome: Map<string, number[]>;
  /** Home platforms (sorted, comma-joined) → the positions of the experts living in any of them, ascending: a host region or a pool, kept once asked for. */
  atHomes: Map<string, number[]>;
  /** The ids joined (joinIds) and where each starts in those bytes (one more: the length plus one), made when first needed. */
  joined?: { bytes: Buffer; starts: Uint32Array };
}

/**
 * The lists cut from a roster: the roster less the entries at `removed` (its positions, ascending). A round stores
 * its list as bytes and hashes them (rounds.ts); a cut list's bytes are copied from its roster's in runs, where
 * joining 85,000 ids one by one cost a draw more than anything else it did in node.
 */
const cutFrom = new WeakMap<readonly string[], { roster: Roster; removed: number[] }>();
/** The host-region sets eligibleExperts made, with their experts' positions in the roster (ascending). */
const hostAt = new WeakMap<ReadonlySet<string>, { roster: Roster; positions: number[] }>();

function cut(roster: Roster, removed: number[]): string[] {
  const list = removeAt(roster.ids, removed);
  cutFrom.set(list, { roster, removed });
  return list;
}

/** The list's ids joined by "\n" as UTF-8 bytes: joinIds(list), copied in runs from its roster's bytes when it was cut from one. */
export function joinedIdsOf(list: readonly string[]): Buffer {
  const origin = cutFrom.get(list);
  if (!origin) return joinIds(list);
  const { roster, removed } = origin;
  const { bytes, starts } = (roster.joined ??= joinedWithStarts(roster.ids));
  const runs: [number, number][] = [];
  let from = 0;
  for (const position of [...removed, roster.ids.length]) {
    // Ids from..position-1 are kept: their bytes run from the first one's start to the last one's end.
    if (position > from) runs.push([starts[from], starts[position] - 1]);
    from = position + 1;
  }
  const length = runs.reduce((sum, [start, end]) => sum + end - start, Math.max(0, runs.length - 1));
  const joined = Buffer.allocUnsafe(length);
  let offset = 0;
  runs.forEach(([start, end], i) => {
    if (i > 0) joined[offset++] = 0x0a;
    offset += bytes.copy(joined, offset, start, end);
  });
  return joined;
}

function joinedWithStarts(ids: readonly string[]): { bytes: Buffer; starts: Uint32Array } {
  const starts = new Uint32Array(ids.length + 1);
  let offset = 0;
  ids.forEach((id, i) => {
    starts[i] = offset;
    offset += Buffer.byteLength(id, 'utf8') + 1;
  });
  starts[ids.length] = offset;
  return { bytes: joinIds(ids), starts };
}

/**
 * The rosters one process has read, labelled with the roster version (migration 010) of the statement that read
 * them. A version names one state of every roster, so a roster is reused only by a statement that saw the same
 * version; a new version drops them all. Held by ExpertsService, one per process.
 */
export class RosterCache {
  private version: string | null = null;
  private readonly rosters = new Map<string, Roster>();

  /** The rosters of these specialties at this version, or null if any of them is not kept. */
  get(version: string, specialties: readonly string[]): Map<string, Roster> | null {
    if (version !== this.version || specialties.some((specialty) => !this.rosters.has(specialty))) return null;
    return new Map(specialties.map((specialty) => [specialty, this.rosters.get(specialty)!]));
  }

  keep(version: string, rosters: ReadonlyMap<string, Roster>): void {
    if (version !== this.version) this.rosters.clear();
    this.version = version;
    for (const [specialty, roster] of rosters) this.rosters.set(specialty, roster);
  }
}

interface EligibilityRow {
  version: string;
  avoided: string | null;
  rosters: (string | null)[] | null;
}

/**
 * One statement, one snapshot: the roster version, who is avoided, and (when asked) the rosters of these specialties.
 * A roster comes as one row of lines `id TAB home` rather than a row per expert (reading and collecting 85,000 rows
 * cost node several times the CPU); ids are printable ASCII (constraint expert_id_printable_ascii), never a tab or a
 * newline, so sorting the lines sorts the ids.
 */
async function readEligibility(
  db: Kysely<ExpertsDatabase>,
  q: EligibilityQuery,
  specialties: readonly string[] | null,
): Promise<EligibilityRow> {
  const rosters =
    specialties === null
      ? sql`null`
      : sql`array[${sql.join(
          specialties.map(
            (specialty) =>
              sql`(select string_agg(e.id || E'\t' || e.home_platform_id, E'\n') from expert e where ${hasSpecialty(specialty)})`,
          ),
        )}]::text[]`;
  // The avoided sets are small and quick to read, but a parallel plan for their union waited 30 ms on this machine
  // for its workers to start; the statement runs without them (set_config local: this transaction only).
  const read = async (trx: Kysely<ExpertsDatabase>) => {
    await sql`select set_config('max_parallel_workers_per_gather', '0', true)`.execute(trx);
    return sql<EligibilityRow>`select
      (select v.version::text from roster_version v) as version,
      (select string_agg(a.id, E'\n') from (${avoidedExperts(q)}) as a(id)) as avoided,
      ${rosters} as rosters`.execute(trx);
  };
  const { rows } = db.isTransaction ? await read(db) : await db.transaction().execute(read);
  return rows[0];
}

function rosterOf(lines: string | null): Roster {
  const sorted = splitIds(lines).sort();
  const roster: Roster = { ids: new Array(sorted.length), byHome: new Map(), atHomes: new Map() };
  sorted.forEach((line, i) => {
    const tab = line.indexOf('\t');
    const home = line.slice(tab + 1);
    roster.ids[i] = line.slice(0, tab);
    const living = roster.byHome.get(home);
    if (living) living.push(i);
    else roster.byHome.set(home, [i]);
  });
  return roster;
}

/** Holds the specialty a group needs. */
function hasSpecialty(specialty: string): RawBuilder<boolean> {
  return sql<boolean>`e.specialties @> array[${specialty}]::text[]`;
}

/**
 * The eligible experts of each group: the specialty's roster less everyone some ground avoids, then, for a seat at a
 * secondary venue of a REMOTE project, only those whose home is in the venue platform's subtree (the group's pool in
 * the facts; null: any home). Who is avoided is asked for afresh every time, in one statement that also gives the
 * roster version; the rosters themselves are read in a second statement only when `cache` (the process's) does not
 * hold them at that version, so a draw's cost grows with the pool only by a filter over a specialty's ids in
 * memory, not by a scan of its rows. Without a cache, every call reads them.
 *
 * ```ts
 * const eligible = await eligibleExperts(db, { ...facts, now, drawLimit30d: 3 }, [{ group_key: 'room-411700-1/LEGAL', specialty: 'LEGAL' }]);
 * ```
 */
export async function eligibleExperts(
  db: Kysely<ExpertsDatabase>,
  q: EligibilityQuery,
  groups: readonly EligibilityGroup[],
  cache?: RosterCache,
): Promise<Map<string, EligibleExperts>> {
  const specialties = [...new Set(groups.map((group) => group.specialty))];
  let row = await readEligibility(db, q, cache ? null : specialties);
  let rosters = cache?.get(row.version, specialties) ?? null;
  if (!rosters) {
    if (cache) row = await readEligibility(db, q, specialties);
    rosters = new Map(specialties.map((specialty, i) => [specialty, rosterOf(row.rosters![i])]));
    cache?.keep(row.version, rosters);
  }
  const avoided = splitIds(row.avoided);
  const eligible = new Map<string, EligibleExperts>();
  for (const specialty of specialties) {
    const roster = rosters.get(specialty)!;
    // Positions, not ids, from here on: a few thousand avoided experts are found by binary search in a roster of up
    // to 85,000, and the list is the roster with them cut out, never filtered id by id.
    const out = positionsOf(roster.ids, avoided);
    const isOut = new Uint8Array(roster.ids.length);
    for (const position of out) isOut[position] = 1;
    const livingAt = (homes: readonly string[]) => atHomes(roster, homes).filter((position) => !isOut[position]);
    const living = (homes: readonly string[]) => livingAt(homes).map((position) => roster.ids[position]);
    const all = cut(roster, out);
    const hostPositions = livingAt(q.hostRegion);
    const hostRegion = new Set(hostPositions.map((position) => roster.ids[position]));
    hostAt.set(hostRegion, { roster, positions: hostPositions });
    for (const group of groups.filter((each) => each.specialty === specialty)) {
      const pool = q.pools[group.group_key] ?? null;
      eligible.set(group.group_key, { candidates: pool === null ? all : living(pool), hostRegion });
    }
  }
  return eligible;
}

/** The positions of the roster's experts living in any of these homes, ascending; kept with the roster. */
function atHomes(roster: Roster, homes: readonly string[]): number[] {
  const key = [...new Set(homes)].sort().join(',');
  let positions = roster.atHomes.get(key);
  if (!positions) {
    positions = key
      .split(',')
      .flatMap((home) => roster.byHome.get(home) ?? [])
      .sort((a, b) => a - b);
    roster.atHomes.set(key, positions);
  }
  return positions;
}

/** Where in `sorted` (ascending byte order, no duplicates) these ids are, ascending; ids not in it are left out. */
function positionsOf(sorted: readonly string[], ids: Iterable<string>): number[] {
  const positions = new Set<number>();
  for (const id of ids) {
    const position = sortedIndexOf(sorted, id);
    if (position >= 0) positions.add(position);
  }
  return [...positions].sort((a, b) => a - b);
}

function sortedIndexOf(sorted: readonly string[], id: string): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] < id) low = middle + 1;
    else high = middle;
  }
  return low < sorted.length && sorted[low] === id ? low : -1;
}

/** The list without the entries at these positions (ascending); the list itself when there are none. */
function removeAt(list: readonly string[], positions: readonly number[]): string[] {
  if (positions.length === 0) return list as string[];
  const kept: string[] = new Array(list.length - positions.length);
  let to = 0;
  let from = 0;
  for (const position of [...positions, list.length]) {
    for (let i = from; i < position; i++) kept[to++] = list[i];
    from = position + 1;
  }
  return kept;
}

/**
 * The host-region experts of a candidate list, in its order: by position when the list and the set were cut from one
 * roster (the main room's list holds a whole specialty), otherwise by looking each candidate up.
 */
export function hostCandidatesOf(candidates: readonly string[], hostRegion: ReadonlySet<string>): string[] {
  const origin = cutFrom.get(candidates);
  const host = hostAt.get(hostRegion);
  if (origin && host && origin.roster === host.roster) {
    // The list is its roster less `removed`, the set its roster's experts at `positions`: no id is looked at.
    const removed = new Set(origin.removed);
    return host.positions.filter((position) => !removed.has(position)).map((position) => origin.roster.ids[position]);
  }
  return candidates.filter((id) => hostRegion.has(id));
}

function splitIds(joined: string | null): string[] {
  return joined === null ? [] : joined.split('\n');
}

/**
 * A list made earlier in a draw's run (sorted, as every candidate list), less the experts the draw has seated since:
 * a live seat of it overlaps this very window (ground 6), a declined or replaced one is this project's (ground 8).
 * Order and the host-region set carry over.
 *
 * ```ts
 * const { candidates } = withoutSeated(listed, [{ expert_id: 'exp-00017', live: true, status: 'INVITED' }]);
 * ```
 */
export function withoutSeated(
  listed: EligibleExperts,
  seats: readonly { expert_id: string | null; live: boolean; status: SeatStatus }[],
): EligibleExperts {
  const seated = seats
    .filter(
      (seat) => seat.expert_id !== null && (seat.live || seat.status === 'DECLINED' || seat.status === 'REPLACED'),
    )
    .map((seat) => seat.expert_id!);
  const origin = cutFrom.get(listed.candidates);
  if (origin) {
    const removed = [...new Set([...origin.removed, ...positionsOf(origin.roster.ids, seated)])].sort((a, b) => a - b);
    return { candidates: cut(origin.roster, removed), hostRegion: listed.hostRegion };
  }
  return {
    candidates: removeAt(listed.candidates, positionsOf(listed.candidates, seated)),
    hostRegion: listed.hostRegion,
  };
}
