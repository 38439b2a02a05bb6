// Resolvers of the experts subgraph: thin wrappers over the service, with sealing applied per field.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { AccessFactsOf } from '../../lib/authorization';
import { forbidden, notFound } from '../../lib/errors';
import { DateTime } from '../../lib/scalars';
import type { SubgraphContext } from '../../lib/subgraph';
import { timelineEventOf, type AccessAttempt } from './check-in';
import type { ExpertsLoaders } from './loaders';
import { masterDataChangeConnectionView, type MasterDataChangesArgs } from '../../lib/master-data-audit';
import { mergedMasterDataChanges } from '../../lib/master-data-log';
import { namedSources, shownChangeId, type ChangeLogSource } from './change-log-source';
import type { PlatformLookup } from './pool-import';
import { poolKeepingExpertFields, poolKeepingMutations } from './pool-resolvers';
import {
  auditRowShown,
  mayReadAccessAudit,
  mayReadExpertIdentity,
  mayReadSeatExpert,
  mayVerifyDraw,
  requireDrawSealLifted,
  revealedSeed,
  sealedError,
  sealedRead,
  shownActor,
  type ExpertView,
} from './sealing';
import type { CommitteeSeat, Draw, SealedAccess } from './core';
import type { ExpertsService } from './service';

export interface ExpertsContext extends SubgraphContext {
  service: ExpertsService;
  loaders: ExpertsLoaders;
  /** Which platforms exist (the venues domain's), for the pool import. */
  platforms: PlatformLookup;
  /** Other domains' change records, by domain name, shown with the pool's in masterDataChanges. */
  changeLogs?: Readonly<Record<string, ChangeLogSource>>;
}

type Ref = { id: string };

/** Name and employer: sealed unless allowed; an allowed read through a seat goes to the access audit. */
async function sealedExpertField(expert: ExpertView, field: 'name' | 'employer', ctx: ExpertsContext): Promise<string> {
  if (!mayReadExpertIdentity(ctx.identity, expert)) throw sealedError(`Expert.${field}`);
  if (expert.via) await ctx.loaders.sealedRead.load(sealedRead(ctx.identity, `Expert.${field}`, expert.via));
  return expert[field];
}

export const expertsResolvers: GraphQLResolverMap<ExpertsContext> = {
  DateTime,
  Query: {
    expertDraw: async (_root: unknown, { id }: Ref, ctx: ExpertsContext) => {
      const draw = await ctx.loaders.draw.load(id);
      // Agencies and partners reach a draw through their project (Project.expertDraw); by id, only its overseers do.
      if (draw && !mayVerifyDraw(ctx.identity, draw))
        throw forbidden(
          "only the host platform's operators, the project's supervisors or PROVINCIAL_ADMIN may read this draw by id",
        );
      return draw;
    },
    verifyExpertDraw: async (_root: unknown, { drawId }: { drawId: string }, ctx: ExpertsContext) => {
      const draw = await ctx.loaders.draw.load(drawId);
      if (!draw) throw notFound('draw', drawId);
      if (!mayVerifyDraw(ctx.identity, draw))
        throw forbidden(
          "only the host platform's operators, the project's supervisors or PROVINCIAL_ADMIN may verify this draw",
        );
      requireDrawSealLifted(draw);
      return ctx.service.verifyDraw(drawId);
    },
    myInvitations: (_root: unknown, _args: unknown, ctx: ExpertsContext) =>
      ctx.service.invitationsOfExpert(ctx.identity.expert!),
    sealedAccessAudit: async (_root: unknown, { projectId }: { projectId: string }, ctx: ExpertsContext) => {
      const draw = await ctx.loaders.latestDrawOfProject.load(projectId);
      if (!draw) return [];
      if (!mayReadAccessAudit(ctx.identity, draw))
        throw forbidden(
          "only the project's supervisors (its department, on the host platform or its parent) may read its access audit",
        );
      const rows = await ctx.service.accessAuditOfProject(projectId);
      const draws = await ctx.loaders.draw.loadMany([...new Set(rows.map((row) => row.draw_id))]);
      const byId = new Map(draws.flatMap((row) => (row instanceof Error || !row ? [] : [[row.id, row] as const])));
      return rows.filter((row) => auditRowShown(row, byId.get(row.draw_id)));
    },
    accessAttempts: async (_root: unknown, { projectId }: { projectId: string }, ctx: ExpertsContext) => {
      const draw = await ctx.loaders.latestDrawOfProject.load(projectId);
      if (!draw) return [];
      if (!mayReadAccessAudit(ctx.identity, draw))
        throw forbidden(
          "only the project's supervisors (its department, on the host platform or its parent) may read its access attempts",
        );
      return ctx.service.accessAttemptsOfProject(projectId);
    },
    experts: (
      _root: unknown,
      args: { platformId: string; specialty?: string; first?: number; after?: string },
      ctx: ExpertsContext,
    ) => ctx.service.listExperts(args),
    specialties: (_root: unknown, _args: unknown, ctx: ExpertsContext) => ctx.service.specialties(),
    masterDataChanges: async (_root: unknown, args: MasterDataChangesArgs, ctx: ExpertsContext) => {
      const own = { masterDataChanges: ctx.service.masterDataChangeSlice.bind(ctx.service) };
      const merged = await mergedMasterDataChanges(namedSources(own, ctx.changeLogs ?? {}), args);
      const shown = masterDataChangeConnectionView(merged, ctx.identity);
      return {
        ...shown,
        edges: shown.edges.map((edge, index) => ({
          ...edge,
          node: { ...edge.node, id: shownChangeId(merged.edges[index].node.source, edge.node.id) },
        })),
      };
    },
  },
  Mutation: {
    respondToInvitation: (
      _root: unknown,
      args: { seatId: string; accept: boolean; reason?: string | null },
      ctx: ExpertsContext,
    ) => ctx.service.respondToInvitation(ctx.identity, args.seatId, args.accept, args.reason ?? null),
    checkIn: (_root: unknown, args: { seatId: string; roomId: string }, ctx: ExpertsContext) =>
      ctx.service.checkIn(ctx.identity, args.seatId, args.roomId),
    importExperts: (
      _root: unknown,
      args: { experts: string; employment?: string | null; conflicts?: string | null; dryRun?: boolean | null },
      ctx: ExpertsContext,
    ) => ctx.service.importExperts(ctx.platforms, ctx.identity, args),
    ...poolKeepingMutations,
  },
  Expert: {
    __resolveReference: (ref: Ref, ctx: ExpertsContext) => ctx.loaders.expert.load(ref.id),
    homePlatform: (expert: ExpertView) => ({ __typename: 'Platform', id: expert.home_platform_id }),
    name: (expert: ExpertView, _args: unknown, ctx: ExpertsContext) => sealedExpertField(expert, 'name', ctx),
    employer: (expert: ExpertView, _args: unknown, ctx: ExpertsContext) => sealedExpertField(expert, 'employer', ctx),
    ...poolKeepingExpertFields,
  },
  ExpertDraw: {
    __resolveReference: (ref: Ref, ctx: ExpertsContext) => ctx.loaders.draw.load(ref.id),
    project: (draw: Draw) => ({ __typename: 'Project', id: draw.project_id }),
    seedCommitment: (draw: Draw) => draw.seed_commitment,
    seed: (draw: Draw) => revealedSeed(draw),
    failureReason: (draw: Draw) => draw.failure_reason,
    supervisorNonce: (draw: Draw) => draw.supervisor_nonce,
    seats: (draw: Draw, _args: unknown, ctx: ExpertsContext) => ctx.loaders.seatsOfDraw.load(draw.id),
  },
  AccessAttempt: {
    // An expert is named by its seat: the link between an expert and a project stays sealed here too.
    actor: (attempt: AccessAttempt) => timelineEventOf(attempt).actor,
    seat: (attempt: AccessAttempt, _args: unknown, ctx: ExpertsContext) =>
      attempt.seat_id ? ctx.loaders.seat.load(attempt.seat_id) : null,
    roomId: (attempt: AccessAttempt) => attempt.room_id,
  },
  CommitteeSeat: {
    checkedInAt: (seat: CommitteeSeat) => seat.checked_in_at,
    __resolveReference: (ref: Ref, ctx: ExpertsContext) => ctx.loaders.seat.load(ref.id),
    draw: (seat: CommitteeSeat, _args: unknown, ctx: ExpertsContext) => ctx.loaders.draw.load(seat.draw_id),
    booking: (seat: CommitteeSeat) => ({ __typename: 'VenueBooking', id: seat.booking_id }),
    invitedAt: (seat: CommitteeSeat) => seat.invited_at,
    answerDueAt: (seat: CommitteeSeat) => seat.answer_due_at,
    respondedAt: (seat: CommitteeSeat) => seat.responded_at,
    expert: async (seat: CommitteeSeat, _args: unknown, ctx: ExpertsContext): Promise<ExpertView | null> => {
      if (seat.expert_id === null) return null;
      const draw = await ctx.loaders.draw.load(seat.draw_id);
      if (!draw || !mayReadSeatExpert(ctx.identity, { seat, draw })) throw sealedError('CommitteeSeat.expert');
      const [expert] = await Promise.all([
        ctx.loaders.expert.load(seat.expert_id),
        ctx.loaders.sealedRead.load(sealedRead(ctx.identity, 'CommitteeSeat.expert', { seat, draw })),
      ]);
      return expert ? { ...expert, via: { seat, draw } } : null;
    },
  },
  SealedAccessRecord: {
    actor: (record: SealedAccess) => shownActor(record.role, record.actor, record.seat_id),
    lastAt: (record: SealedAccess) => record.last_at ?? record.at,
    seat: (record: SealedAccess, _args: unknown, ctx: ExpertsContext) =>
      record.seat_id ? ctx.loaders.seat.load(record.seat_id) : null,
  },
  Project: {
    __resolveReference: (ref: Ref) => ({ id: ref.id }),
    expertDraw: (project: Ref, _args: unknown, ctx: ExpertsContext) => ctx.loaders.latestDrawOfProject.load(project.id),
  },
};

/** What lib/authorization.ts decides a draw's, seat's or expert's scopes from. */
export const expertsAccessFacts: AccessFactsOf<ExpertsContext> = {
  ExpertDraw: (draw: Draw, ctx: ExpertsContext) => ({
    project: () => ctx.loaders.projectAccess.load(draw.project_id),
    unsealed: draw.unsealed_at !== null,
    seatedExperts: async () =>
      (await ctx.loaders.seatsOfDraw.load(draw.id)).flatMap((seat) => (seat.expert_id ? [seat.expert_id] : [])),
  }),
  CommitteeSeat: async (seat: CommitteeSeat, ctx: ExpertsContext) => {
    const draw = await ctx.loaders.draw.load(seat.draw_id);
    return {
      project: () => ctx.loaders.projectAccess.load(seat.project_id),
      expert: seat.expert_id,
      unsealed: draw?.unsealed_at != null,
    };
  },
  // An expert reached through a seat follows the seat's project and seal; otherwise only its own facts.
  Expert: (expert: ExpertView, ctx: ExpertsContext) =>
    expert.via
      ? {
          expert: expert.id,
          unsealed: expert.via.draw.unsealed_at !== null,
          project: () => ctx.loaders.projectAccess.load(expert.via!.draw.project_id),
        }
      : { expert: expert.id },
  Project: (project: Ref, ctx: ExpertsContext) => ({ project: () => ctx.loaders.projectAccess.load(project.id) }),
};
