// What every part of the experts domain shares: its database with the clock, ids and policy a draw obeys (`ExpertsCore`,
// held by ExpertsService and never handed out of the domain), its row types, and the jobs that follow a draw's changes.
import type { Kysely, Selectable } from 'kysely';
import type { Clock, IdGenerator } from '../../lib/clock';
import { hostRegionShare, type HubConfig } from '../../lib/config';
import type { EligibilityFacts, EligibilityQuery, RosterCache } from './eligibility';
import type {
  CommitteeSeatTable,
  DrawGroupTable,
  DrawRoundTable,
  DrawTable,
  ExpertsDatabase,
  ExpertTable,
  SealedAccessTable,
} from './types';

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
export const DEFAULT_DRAW_POLICY: DrawPolicy = {
  drawLimit30d: 3,
  hostRegionShare: { numerator: 1, denominator: 3 },
  inviteTtlMs: 15 * 60_000,
};

export function drawPolicyOf(config: HubConfig): DrawPolicy {
  return {
    drawLimit30d: config.DRAW_LIMIT_30D,
    hostRegionShare: hostRegionShare(config),
    inviteTtlMs: config.INVITE_TTL,
  };
}

/** Queues and job names of the work that follows a draw's state changes (handled in jobs/expert-draws.ts, jobs/invitations.ts). */
export const DRAW_JOBS = {
  draw: { queue: 'expert-draws', name: 'draw' },
  replace: { queue: 'expert-draws', name: 'replace' },
  invitationTimeout: { queue: 'expert-draws', name: 'invitation-timeout' },
  committeeComplete: { queue: 'expert-draws', name: 'committee-complete' },
  invitation: { queue: 'notifications', name: 'invitation' },
} as const;

/** The statuses of a seat that holds a place on the committee. */
export const LIVE_SEAT_STATUSES = ['INVITED', 'ACCEPTED', 'CHECKED_IN'] as const;

export interface DrawRequest {
  projectId: string;
  hostPlatformId: string;
  hostParentId: string | null;
  department: string;
  mode: 'LOCAL' | 'REMOTE';
  startsAt: Date;
  endsAt: Date;
  supervisorNonce: string | null;
  groups: {
    bookingId: string;
    roomId: string;
    platformId: string;
    role: 'MAIN' | 'SECONDARY';
    specialty: string;
    seats: number;
  }[];
}

export type FillOutcome =
  { kind: 'FILLED' } | { kind: 'SKIPPED'; why: string } | { kind: 'INSUFFICIENT'; reason: string };
export type DrawOutcome =
  { kind: 'SEATED'; seats: number } | { kind: 'SKIPPED'; why: string } | { kind: 'FAILED'; reason: string };

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

/**
 * Points inside the service's transactions where a test stops the process (test/faults/replacement-crash.test.ts) or
 * lets another draw race it (test/expert-draw-grounds.test.ts): never set in production.
 */
export interface ExpertsServiceHooks {
  /** drawReplacement wrote the old seat REPLACED and has not drawn the new one yet (same transaction, uncommitted). */
  seatWithdrawn?: (seatId: string) => Promise<void>;
  /** A round has its candidate list and has not selected from it or written its seats yet (same transaction). */
  candidatesListed?: (drawId: string, groupKey: string) => Promise<void>;
}

/** What the domain's functions work with: only ExpertsService builds one, and it never leaves the domain. */
export interface ExpertsCore {
  readonly db: Kysely<ExpertsDatabase>;
  readonly clock: Clock;
  readonly policy: DrawPolicy;
  readonly ids: IdGenerator;
  readonly hooks: ExpertsServiceHooks;
  /** The specialties' rosters this process has read (eligibility.ts). */
  readonly rosters: RosterCache;
}

/** The grounds' parameters for a draw's facts, now. */
export function eligibilityQueryOf(core: ExpertsCore, facts: EligibilityFacts): EligibilityQuery {
  return { ...facts, now: core.clock.now(), drawLimit30d: core.policy.drawLimit30d };
}
