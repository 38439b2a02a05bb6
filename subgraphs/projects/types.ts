// Row types of schema "projects".
import type { ColumnType, Generated } from 'kysely';
import type { OutboxTable } from '../../lib/outbox';
import type { Department } from '../../lib/identity';

export type ProjectCategory = 'CONSTRUCTION' | 'GOVERNMENT_PROCUREMENT' | 'TRANSPORT' | 'WATER_CONSERVANCY' | 'OTHER';
export type EvaluationMode = 'LOCAL' | 'REMOTE';
/** How tenderers are admitted: the OCDS method codelist (公开招标 OPEN, 邀请招标 SELECTIVE or LIMITED, 直接采购 DIRECT). */
export type ProcurementMethod = 'OPEN' | 'SELECTIVE' | 'LIMITED' | 'DIRECT';
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
  procurement_method: ColumnType<ProcurementMethod, ProcurementMethod | undefined, ProcurementMethod>;
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

export type ReconciliationStatus = 'PENDING' | 'RUNNING' | 'DONE' | 'FAILED';
export type ReconciliationTrigger = 'ON_DEMAND' | 'UPCOMING' | 'NIGHTLY';
export type DiscrepancyKind =
  | 'WINDOW_MISMATCH'
  | 'LIVE_BOOKING_OF_CLOSED_PROJECT'
  | 'EXPIRED_HOLD'
  | 'SEAT_WITHOUT_CONFIRMED_BOOKING'
  | 'INCOMPLETE_COMMITTEE'
  | 'ROOM_OVERBOOKED'
  | 'LEDGER_MISMATCH';
export interface ReconciliationReportTable {
  id: string;
  from_at: Date;
  to_at: Date;
  status: ReconciliationStatus;
  trigger: ReconciliationTrigger;
  requested_by: string;
  failure_reason: string | null;
  created_at: Generated<Date>;
  started_at: Date | null;
  generated_at: Date | null;
}
export interface ReconciliationDiscrepancyTable {
  report_id: string;
  seq: number;
  kind: DiscrepancyKind;
  project_id: string | null;
  project_code: string | null;
  booking_id: string | null;
  seat_id: string | null;
  ledger_entry_id: string | null;
  /** The platform whose staff would act on it. */
  platform_id: string | null;
  /** The mutation that would resolve it. */
  resolution: string;
  detail: string;
}

export interface ProjectsDatabase {
  project: ProjectTable;
  project_event: ProjectEventTable;
  ledger_entry: LedgerEntryTable;
  outbox: OutboxTable;
  reconciliation_report: ReconciliationReportTable;
  reconciliation_discrepancy: ReconciliationDiscrepancyTable;
}
