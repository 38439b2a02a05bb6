// The experts domain's service: the province-wide pool, committee draws and the seats they fill. A thin front over the
// files that do the work (as the projects domain's steps/): pool.ts (the pool), draw-records.ts (reading draws and
// seats), draw-run.ts and rounds.ts (requesting and running draws), invitations.ts (answers and replacements),
// verification.ts, sealed-audit.ts and check-in.ts. It keeps its database to itself: other domains ask it, by method.
import { sql, type Kysely } from 'kysely';
import { randomIds, type Clock, type IdGenerator } from '../../lib/clock';
import type { Identity } from '../../lib/identity';
import type { Connection } from '../../lib/pagination';
import { accessAttemptsByIds, accessAttemptsOfProject, checkIn, type AccessAttempt } from './check-in';
import {
  DEFAULT_DRAW_POLICY,
  type CommitteeSeat,
  type Draw,
  type DrawGroup,
  type DrawOutcome,
  type DrawPolicy,
  type DrawRequest,
  type DrawRound,
  type DrawVerification,
  type Expert,
  type ExpertsCore,
  type ExpertsServiceHooks,
  type SealedAccess,
  type SealedRead,
} from './core';
import * as records from './draw-records';
import * as run from './draw-run';
import { RosterCache, type AvoidanceGround, type EligibilityFacts } from './eligibility';
import * as invitations from './invitations';
import * as pool from './pool';
import * as audit from './sealed-audit';
import type { ExpertsDatabase } from './types';
import { verifyDraw } from './verification';
import { listMasterDataChanges, type MasterDataChange, type MasterDataChangesArgs } from '../../lib/master-data-audit';
import { masterDataChangeSlice, type ChangeFilter, type ChangePage, type ChangeSlice } from '../../lib/master-data-log';
import { importExpertsMutation, poolPlatforms, type ImportReport, type PlatformLookup } from './pool-import';
import { listSpecialties } from './specialties';
import { recordPoolDetails, type PoolDetails, type PoolDetailsReport } from './pool-details';
import type { ChangeActor } from '../../lib/master-data-audit';
import * as keeping from './pool-keeping';
import * as declarations from './declarations';

/** The arguments of Mutation.importExperts. */
export interface ImportExpertsArgs {
  experts: string;
  employment?: string | null;
  conflicts?: string | null;
  dryRun?: boolean | null;
}

export class ExpertsService {
  private readonly core: ExpertsCore;

  constructor(
    db: Kysely<ExpertsDatabase>,
    clock: Clock,
    policy: DrawPolicy = DEFAULT_DRAW_POLICY,
    ids: IdGenerator = randomIds,
    hooks: ExpertsServiceHooks = {},
  ) {
    this.core = { db, clock, policy, ids, hooks, rosters: new RosterCache() };
  }

  // ------------------------------------------------------------------ the pool (pool.ts)

  expertsByIds(ids: readonly string[]): Promise<Expert[]> {
    return pool.expertsByIds(this.core, ids);
  }

  /** Pool administration: the experts whose home platform is `platformId`, optionally of one specialty, by code. */
  listExperts(args: {
    platformId: string;
    specialty?: string | null;
    first?: number | null;
    after?: string | null;
  }): Promise<Connection<Expert>> {
    return pool.listExperts(this.core, args);
  }

  /** Which of these experts one avoidance ground excludes for a project (the grounds' own test hook, and a diagnosis tool). */
  expertsAvoidedBy(ground: AvoidanceGround, facts: EligibilityFacts, expertIds: readonly string[]): Promise<string[]> {
    return pool.expertsAvoidedBy(this.core, ground, facts, expertIds);
  }

  // ------------------------------------------------------------------ draws and seats as recorded (draw-records.ts)

  drawsByIds(ids: readonly string[]): Promise<Draw[]> {
    return records.drawsByIds(this.core, ids);
  }

  getDraw(id: string): Promise<Draw> {
    return records.getDraw(this.core, id);
  }

  /** The latest draw of each project. */
  latestDrawsOfProjects(projectIds: readonly string[]): Promise<Draw[]> {
    return records.latestDrawsOfProjects(this.core, projectIds);
  }

  /** Every draw of a project (failed ones too, for the archive), oldest first. */
  drawsOfProject(projectId: string): Promise<Draw[]> {
    return records.drawsOfProject(this.core, projectId);
  }

  seatsByIds(ids: readonly string[]): Promise<CommitteeSeat[]> {
    return records.seatsByIds(this.core, ids);
  }

  getSeat(id: string): Promise<CommitteeSeat> {
    return records.getSeat(this.core, id);
  }

  seatsOfDraws(drawIds: readonly string[]): Promise<CommitteeSeat[]> {
    return records.seatsOfDraws(this.core, drawIds);
  }

  /** Every seat of a project's draws, for the workflow steps that follow (check-in, evaluation, replacement). */
  seatsOfProject(projectId: string, options: { liveOnly?: boolean } = {}): Promise<CommitteeSeat[]> {
    return records.seatsOfProject(this.core, projectId, options);
  }

  /** An expert's invitations, newest first (seats whose invitation was sent). */
  invitationsOfExpert(expertId: string): Promise<CommitteeSeat[]> {
    return records.invitationsOfExpert(this.core, expertId);
  }

  groupsOfDraw(drawId: string): Promise<DrawGroup[]> {
    return records.groupsOfDraw(this.core, drawId);
  }

  roundsOfDraw(drawId: string): Promise<DrawRound[]> {
    return records.roundsOfDraw(this.core, drawId);
  }

  // ------------------------------------------------------------------ requesting and running a draw (draw-run.ts)

  /** A PENDING draw with a fresh CSPRNG seed (only its commitment published) and its groups (room × specialty). */
  requestDraw(request: DrawRequest): Promise<Draw> {
    return run.requestDraw(this.core, request);
  }

  /** Marks a draw FAILED with its reason and releases its live seats; nothing stays reserved. */
  failDraw(drawId: string, reason: string): Promise<void> {
    return run.failDraw(this.core, drawId, reason);
  }

  /** Runs a PENDING draw: every group filled by verifiable rounds, then the invitations, in one transaction. Idempotent. */
  runDraw(drawId: string, facts: EligibilityFacts): Promise<DrawOutcome> {
    return run.runDraw(this.core, drawId, facts);
  }

  /** Once the committee is confirmed: the draw COMPLETES (its seed stays sealed until the evaluation starts). */
  completeDraw(drawId: string): Promise<void> {
    return run.completeDraw(this.core, drawId);
  }

  /** The evaluation started: from now on the host's operators and the project's supervisors see the committee, and the seeds are revealed. */
  unsealCommittee(projectId: string): Promise<void> {
    return run.unsealCommittee(this.core, projectId);
  }

  /** The project was cancelled: its live seats are released and a pending draw fails. */
  withdrawProjectSeats(projectId: string, reason?: string): Promise<number> {
    return run.withdrawProjectSeats(this.core, projectId, reason);
  }

  // ------------------------------------------------------------------ invitations and replacements (invitations.ts)

  /** An invited expert accepts, or declines with a reason; only its own invitation. */
  respondToInvitation(
    identity: Identity,
    seatId: string,
    accept: boolean,
    reason: string | null,
  ): Promise<CommitteeSeat> {
    return invitations.respondToInvitation(this.core, identity, seatId, accept, reason);
  }

  /** Every group of the draw is full and every live seat ACCEPTED (checked-in seats count as accepted). */
  committeeComplete(drawId: string): Promise<boolean> {
    return invitations.committeeComplete(this.core, drawId);
  }

  /** An invitation unanswered within INVITE_TTL counts as declined and starts a replacement. Throws while not yet due. */
  expireInvitation(seatId: string): Promise<'DECLINED' | 'ANSWERED'> {
    return invitations.expireInvitation(this.core, seatId);
  }

  /** Draws the replacement of a DECLINED seat in the next round of its group. Idempotent: a seat is replaced once. */
  replaceDeclinedSeat(seatId: string): Promise<DrawOutcome> {
    return invitations.replaceDeclinedSeat(this.core, seatId);
  }

  /** A member who must withdraw: the seat REPLACED with the reason and its replacement drawn, in one transaction. Returns the new seat. */
  drawReplacement(seatId: string, reason: string): Promise<CommitteeSeat> {
    return invitations.drawReplacement(this.core, seatId, reason);
  }

  // ------------------------------------------------------------------ check-in (check-in.ts)

  /** Checks the calling expert in at its seat; every attempt, admitted or refused, is recorded. */
  checkIn(identity: Identity, seatId: string, roomId: string): Promise<CommitteeSeat> {
    return checkIn(this.core, identity, seatId, roomId);
  }

  accessAttemptsByIds(ids: readonly string[]): Promise<AccessAttempt[]> {
    return accessAttemptsByIds(this.core, ids);
  }

  /** The attempts to enter a project's evaluation area, oldest first. */
  accessAttemptsOfProject(projectId: string): Promise<AccessAttempt[]> {
    return accessAttemptsOfProject(this.core, projectId);
  }

  // ------------------------------------------------------------------ verification and the sealed-read audit

  /** Recomputes every round of a draw from what was stored (verification.ts). */
  verifyDraw(drawId: string): Promise<DrawVerification> {
    return verifyDraw(this.core, drawId);
  }

  /** Writes allowed reads of sealed fields to the access audit, counted per (actor, seat, field, minute) (sealed-audit.ts). */
  recordSealedReads(reads: readonly SealedRead[]): Promise<void> {
    return audit.recordSealedReads(this.core, reads);
  }

  /** The access audit of a project, oldest first. */
  accessAuditOfProject(projectId: string): Promise<SealedAccess[]> {
    return audit.accessAuditOfProject(this.core, projectId);
  }

  // ------------------------------------------------------------------ master data (specialties.ts, pool-import.ts)

  /** The pool's specialty list. */
  specialties(): Promise<string[]> {
    return listSpecialties(this.core.db);
  }

  /** Mutation.importExperts: the files imported all or nothing (pool-import.ts). */
  importExperts(platforms: PlatformLookup, identity: Identity, args: ImportExpertsArgs): Promise<ImportReport> {
    return importExpertsMutation(this.core.db, platforms, identity, args);
  }

  /** What the import's files do not carry: phones, supervision posts, board seats, penalties (pool-details.ts). */
  recordPoolDetails(details: PoolDetails, actor: ChangeActor): Promise<PoolDetailsReport> {
    return recordPoolDetails(this.core.db, details, actor);
  }

  /** A slice of the pool's change records after a position, newest first (merged with other domains' by the resolver). */
  masterDataChangeSlice(filter: ChangeFilter, page: ChangePage): Promise<ChangeSlice> {
    return masterDataChangeSlice(this.core.db, filter, page);
  }

  /** The change records of the pool, newest first. */
  masterDataChanges(args: MasterDataChangesArgs): Promise<Connection<MasterDataChange>> {
    return listMasterDataChanges(this.core.db, args);
  }

  // ------------------------------------------------------------------ keeping the pool (pool-keeping.ts, declarations.ts)

  registerExpert(platforms: PlatformLookup, identity: Identity, input: keeping.ExpertInput): Promise<Expert> {
    return keeping.registerExpert(this.core, platforms, identity, input);
  }

  updateExpert(
    platforms: PlatformLookup,
    identity: Identity,
    expertId: string,
    patch: keeping.ExpertPatch,
  ): Promise<Expert> {
    return keeping.updateExpert(this.core, platforms, identity, expertId, patch);
  }

  recordEmployment(identity: Identity, args: Parameters<typeof keeping.recordEmployment>[2]): Promise<Expert> {
    return keeping.recordEmployment(this.core, identity, args);
  }

  /** Refused (CONFLICT naming the projects) while the expert holds live seats, unless withdrawSeats (withdrawal.ts). */
  suspendExpert(identity: Identity, args: Parameters<typeof keeping.suspendExpert>[2]): Promise<Expert> {
    return keeping.suspendExpert(this.core, identity, args);
  }

  reinstateExpert(identity: Identity, expertId: string): Promise<Expert> {
    return keeping.reinstateExpert(this.core, identity, expertId);
  }

  recordPenalty(identity: Identity, args: Parameters<typeof keeping.recordPenalty>[2]): Promise<Expert> {
    return keeping.recordPenalty(this.core, identity, args);
  }

  retireExpert(identity: Identity, args: Parameters<typeof keeping.retireExpert>[2]): Promise<Expert> {
    return keeping.retireExpert(this.core, identity, args);
  }

  removeConflict(identity: Identity, args: Parameters<typeof keeping.removeConflict>[2]): Promise<Expert> {
    return keeping.removeConflict(this.core, identity, args);
  }

  declareConflict(identity: Identity, args: Parameters<typeof declarations.declareConflict>[2]): Promise<Expert> {
    return declarations.declareConflict(this.core, identity, args);
  }

  declareUnavailability(
    identity: Identity,
    args: Parameters<typeof declarations.declareUnavailability>[2],
  ): Promise<Expert> {
    return declarations.declareUnavailability(this.core, identity, args);
  }

  cancelUnavailability(identity: Identity, id: string): Promise<Expert> {
    return declarations.cancelUnavailability(this.core, identity, id);
  }

  /** The declared windows of each expert not cancelled and not over (Expert.unavailability). */
  unavailabilityOfExperts(expertIds: readonly string[]): Promise<declarations.Unavailability[]> {
    return declarations.unavailabilityOfExperts(this.core, expertIds);
  }

  /** The platforms the pool already references, for an import when the venues domain is not wired in. */
  poolPlatforms(): PlatformLookup {
    return poolPlatforms(this.core.db);
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.core.db);
    return true;
  }
}
