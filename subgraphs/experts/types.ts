// Row types of schema "experts".
import type { ColumnType, Generated } from 'kysely';
import type { MasterDataChangeTable } from '../../lib/master-data-audit';
import type { OutboxTable } from '../../lib/outbox';

export type ExpertStatus = 'ACTIVE' | 'SUSPENDED' | 'RETIRED';
export type DrawStatus = 'PENDING' | 'COMPLETED' | 'FAILED';
export type SeatStatus = 'INVITED' | 'ACCEPTED' | 'DECLINED' | 'REPLACED' | 'CHECKED_IN' | 'WITHDRAWN';

export interface ExpertTable {
  id: string;
  code: string;
  name: string;
  phone: string;
  home_platform_id: string;
  specialties: string[];
  employer: string;
  supervision_department: string | null;
  supervision_region: string | null;
  status: Generated<ExpertStatus>;
  created_at: Generated<Date>;
  /** When a suspension ends by itself (null: until reinstated); its reason (migration 009). */
  suspended_until: Generated<Date | null>;
  suspension_reason: Generated<string | null>;
}
/** A window an expert declared itself unavailable (avoidance ground 9); cancelled ones are kept. */
export interface UnavailabilityTable {
  id: string;
  expert_id: string;
  /** tstzrange, written as '[from,to)'. */
  during: string;
  reason: string | null;
  declared_at: Generated<Date>;
  cancelled_at: Date | null;
}
export interface EmploymentTable {
  id: Generated<string>;
  expert_id: string;
  organisation: string;
  relation: 'EMPLOYEE' | 'BOARD_MEMBER';
  started_on: string;
  ended_on: string | null;
}
export interface DeclaredConflictTable {
  expert_id: string;
  organisation: string;
  kind: 'KINSHIP' | 'ECONOMIC_INTEREST' | 'OTHER';
}
export interface PenaltyTable {
  id: Generated<string>;
  expert_id: string;
  reason: string;
  imposed_on: string;
  until: string | null;
}
export interface DrawTable {
  id: string;
  project_id: string;
  status: DrawStatus;
  seed_commitment: string;
  seed: string | null;
  seed_revealed: Generated<boolean>;
  supervisor_nonce: string | null;
  failure_reason: string | null;
  starts_at: Date;
  ends_at: Date;
  requested_at: Generated<Date>;
  completed_at: Date | null;
  /** The project's facts sealing needs (copied when the draw is requested; null on draws made before migration 002). */
  host_platform_id: Generated<string | null>;
  host_parent_id: Generated<string | null>;
  department: Generated<string | null>;
  mode: Generated<'LOCAL' | 'REMOTE' | null>;
  /** When the evaluation started: from then on the host's operators and the project's supervisors see the committee. */
  unsealed_at: Generated<Date | null>;
  /** The eligibility facts of the project (EligibilityFacts), fixed when the draw job first runs; replacements reuse them. */
  eligibility: Generated<unknown>;
}
export interface CommitteeSeatTable {
  id: string;
  draw_id: string;
  project_id: string;
  booking_id: string;
  room_id: string;
  specialty: string;
  round: number;
  status: SeatStatus;
  expert_id: string | null;
  /** tstzrange, written as '[start,end)'. */
  during: string;
  live: Generated<boolean>;
  invited_at: Date | null;
  answer_due_at: Date | null;
  responded_at: Date | null;
  reason: string | null;
  created_at: Generated<Date>;
  group_key: Generated<string | null>;
  /** The seat this one replaces (a decline, a timeout, a withdrawal): one replacement per seat. */
  replaces_seat_id: Generated<string | null>;
  checked_in_at: Generated<Date | null>;
  checked_in_room_id: Generated<string | null>;
}
export interface DrawGroupTable {
  draw_id: string;
  group_key: string;
  booking_id: string;
  room_id: string;
  /** The platform of the room's venue. */
  platform_id: string;
  role: 'MAIN' | 'SECONDARY';
  specialty: string;
  seats: number;
}
export type RoundOutcome = 'SEATED' | 'LOST_RACE';
export interface DrawRoundTable {
  draw_id: string;
  group_key: string;
  round: number;
  candidates: string[];
  candidates_digest: string;
  host_region_candidates: string[];
  host_quota: number | null;
  wanted: number;
  /** int8: arrives as a string. */
  counter_start: ColumnType<string, number, number>;
  counter_end: ColumnType<string, number, number>;
  selected: string[];
  outcome: RoundOutcome;
  created_at: Generated<Date>;
}
export interface SealedAccessTable {
  id: Generated<string>;
  at: Generated<Date>;
  actor: string;
  role: string;
  field: string;
  project_id: string;
  draw_id: string;
  seat_id: string | null;
  expert_id: string;
  /** How many reads the row stands for: one row per (actor, seat, field, minute) (migration 007; older rows: 1). */
  reads: Generated<number>;
  last_at: Date | null;
  minute: Date | null;
}

/** One attempt to enter the closed evaluation area (a check-in), admitted or refused. */
export interface AccessAttemptTable {
  id: Generated<string>;
  at: Date;
  actor: string;
  role: string;
  expert_id: string | null;
  project_id: string | null;
  seat_id: string | null;
  room_id: string;
  admitted: boolean;
  code: string | null;
  reason: string;
  /** The seat the calling expert holds on the project, if any (which may differ from seat_id, the seat it named). */
  caller_seat_id: Generated<string | null>;
}

export interface ExpertsDatabase {
  expert: ExpertTable;
  employment: EmploymentTable;
  declared_conflict: DeclaredConflictTable;
  penalty: PenaltyTable;
  draw: DrawTable;
  committee_seat: CommitteeSeatTable;
  draw_group: DrawGroupTable;
  draw_round: DrawRoundTable;
  sealed_access: SealedAccessTable;
  access_attempt: AccessAttemptTable;
  outbox: OutboxTable;
  /** The pool's specialty list (migration 008). */
  specialty: { name: string };
  master_data_change: MasterDataChangeTable;
  /** Declared unavailability (migration 009). */
  unavailability: UnavailabilityTable;
  /** The rosters' version (migration 010): set by a trigger before every write that can change a specialty's roster. */
  roster_version: { singleton: Generated<boolean>; version: string };
}
