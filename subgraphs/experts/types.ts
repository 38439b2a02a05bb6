// Row types of schema "experts".
import type { Generated } from 'kysely';
import type { OutboxTable } from '../../lib/outbox';

export type ExpertStatus = 'ACTIVE' | 'SUSPENDED';
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
  kind: 'KINSHIP' | 'ECONOMIC_INTEREST';
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
}

export interface ExpertsDatabase {
  expert: ExpertTable;
  employment: EmploymentTable;
  declared_conflict: DeclaredConflictTable;
  penalty: PenaltyTable;
  draw: DrawTable;
  committee_seat: CommitteeSeatTable;
  outbox: OutboxTable;
}
