// The projects domain's door: the only file of subgraphs/projects that another part of the hub imports.
export {
  ProjectsService,
  eventHash,
  GENESIS_HASH,
  type Project,
  type ProjectEvent,
  type NewEvent,
  type TransitionRequest,
  type PlatformDirectory,
} from './service';
export type {
  ProjectsDatabase,
  ProjectStatus,
  ProjectCategory,
  DiscrepancyKind,
  ProjectTable,
  ProjectEventTable,
} from './types';
export { projectsMigrations } from './migrations';
export { projectsSubgraph, type ProjectsDependencies } from './server';
export type { ProjectsContext } from './resolvers';
export { ProjectAccessReader, type ProjectAccessRow } from './access';
export { ocdsPublicationOf, OCDS_EXTENSION_PATH, type OcdsPublication } from './ocds';
export type * from './desks';
export { recordArrangement, type ArrangementReport } from './steps/arrange-venues';
export { reverseOpenLedgerEntries, type LedgerEntry } from './ledger';
export { ReconciliationService, RECONCILIATION_JOB, type FoundDiscrepancy } from './reconciliation';
export {
  DISCREPANCY_CHECKS,
  findDiscrepancies,
  type BlockView,
  type BookingView,
  type DiscrepancyCheck,
  type DiscrepancyFacts,
  type LiveStatuses,
  type ProjectInRange,
  type ProjectView,
  type RangeSnapshot,
} from './discrepancy-checks';
