// Row types of schema "projects".
import type { ColumnType, Generated } from 'kysely';
import type { OutboxTable } from '../../lib/outbox';
import type { Department } from '../../lib/identity';

export type ProjectCategory = 'CONSTRUCTION' | 'GOVERNMENT_PROCUREMENT' | 'TRANSPORT' | 'WATER_CONSERVANCY' | 'OTHER';
export type EvaluationMode = 'LOCAL' | 'REMOTE';
export type ProjectStatus =
  | 'SUBMITTED'
  | 'FILED'
  | 'REJECTED'
  | 'VENUES_ARRANGING'
  | 'VENUES_CONFIRMED'
  | 'FEE_ADVANCED'
  | 'EXPERTS_DRAWING'
  | 'COMMITTEE_CONFIRMED'
  | 'IN_EVALUATION'
  | 'EVALUATED'
  | 'ARCHIVED'
  | 'CANCELLED';
export type Fen = ColumnType<string, string | number | bigint, string | number | bigint>;

export interface ProjectTable {
  id: string;
  code: string;
  name: string;
  category: ProjectCategory;
  department: Department;
  host_platform_id: string;
  tenderer: string;
  agency: string;
  bidders: string[];
  budget: Fen;
  mode: EvaluationMode;
  committee_size: number;
  tenderer_representatives: number;
  evaluation_starts_at: Date;
  evaluation_ends_at: Date;
  status: ProjectStatus;
  fee_advance: ColumnType<string | null, string | number | bigint | null, string | number | bigint | null>;
  submitted_by: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}
export interface ProjectEventTable {
  id: Generated<string>;
  project_id: string;
  seq: number;
  at: Date;
  kind: string;
  actor: string;
  detail: string | null;
  data: unknown;
  prev_hash: string;
  hash: string;
  event_key: string | null;
}

export type LedgerEntryKind = 'FEE_ADVANCE' | 'PARTNER_PAYABLE' | 'REVERSAL';
export interface LedgerEntryTable {
  id: string;
  project_id: string;
  kind: LedgerEntryKind;
  /** A party: "agency:<org>" or "platform:<region code>". */
  payer: string;
  payee: string;
  amount: Fen;
  reverses: string | null;
  detail: unknown;
  settled_at: Date | null;
  created_at: Generated<Date>;
}

export interface ProjectsDatabase {
  project: ProjectTable;
  project_event: ProjectEventTable;
  ledger_entry: LedgerEntryTable;
  outbox: OutboxTable;
}
