// The experts domain's one door: the only file that code outside subgraphs/experts imports (tests excepted). What is
// not listed here is the domain's own business. Each export says who needs it; add one only for a need like these.

// --- The service and its construction (composition roots: app/hub.ts, app/adapters.ts; jobs and the
// projects workflow steps call its methods). It keeps its database to itself.
export { ExpertsService } from './service';
export { drawPolicyOf } from './core';
export type { DrawPolicy, ExpertsServiceHooks } from './core';

// --- The subgraph server factory, and what it asks of the projects domain (wired by the composition root).
export { expertsSubgraph } from './server';
export type { ProjectAccessSource } from './loaders';
/** Other domains' change records shown in masterDataChanges (app/adapters.ts wires the venues domain's). */
export type { ChangeLogSource } from './change-log-source';

// --- The schema: migrations and the database type, for the composition root (app/migrations.ts, app/hub-databases.ts,
// app/cli/seed.ts), and the pool's row shapes the demo data generator writes (app/seed/).
export { expertsMigrations } from './migrations';
export type { DeclaredConflictTable, EmploymentTable, ExpertsDatabase, ExpertTable, PenaltyTable } from './types';

// --- For the venues subgraph: which experts hold a seat in a booking (an expert sees the booking of its own seat).
export { SeatAccessReader } from './access';

// --- Jobs: the queues and job names a draw's and a check-in's changes start, the facts a draw is run with, and how an
// access attempt reads on a project's timeline (jobs/expert-draws.ts, jobs/check-in.ts, projects' evaluation step).
export { DRAW_JOBS } from './core';
export { timelineEventOf } from './check-in';
export type { EligibilityFacts } from './eligibility';

// --- Pure sealing predicates other domains apply to the draws and seats they are given (the projects archive and
// evaluation steps): whether a draw's seal lifted, its seed once revealed, who may read a seat's expert, and the
// audit record of such a read.
export { drawSealLifted, mayReadSeatExpert, revealedSeed, sealedRead } from './sealing';

// --- The types of what the service's methods take and return.
export type { AccessAttempt } from './check-in';
export type {
  CommitteeSeat,
  Draw,
  DrawGroup,
  DrawOutcome,
  DrawRequest,
  DrawRound,
  DrawVerification,
  Expert,
  SealedAccess,
  SealedRead,
} from './core';

// --- The pool import, for the import CLI (app/cli/import-experts.ts) and the demo seed.
export {
  importExpertFiles,
  summarizeImport,
  type ImportProgress,
  type ImportReport,
  type ExpertFiles,
  type PlatformLookup,
} from './pool-import';

// --- What the import's files cannot carry (phones, supervision posts, board seats, penalties), for the demo seed.
export type { PoolDetails, PoolDetailsReport } from './pool-details';
