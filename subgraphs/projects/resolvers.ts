// Resolvers of the projects subgraph: thin wrappers over the service.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import type { AccessFactsOf } from '../../lib/authorization';
import { forbidden } from '../../lib/errors';
import { DateTime, Money } from '../../lib/scalars';
import type { SubgraphContext } from '../../lib/subgraph';
import type { ProjectsLoaders } from './loaders';
import type { SubmitProjectInput } from './rules';
import type { Project, ProjectEvent, ProjectsService } from './service';
import type { ProjectStatus } from './types';
import type { LedgerEntry, PartnerBalance } from './ledger';
import { advanceEvaluationFee } from './steps/fee-advance';
import { archiveProject, verifyProjectArchive } from './steps/archive';
import { archiveBundle } from './steps/archive-bundle';
import { releasePackageJson, releasePackageOf, type OcdsPublication } from './ocds';
import { completeEvaluation, replaceCommitteeMember, startEvaluation } from './steps/evaluation';
import { arrangeVenues, type SeatRequestInput } from './steps/arrange-venues';
import { cancelProject } from './steps/cancel-project';
import { drawExperts, type SeatRequirementInput } from './steps/draw-experts';
import { reconciliationTypeResolvers } from './reconciliation';
import type { BookingDesk, DrawDesk } from './desks';

export interface ProjectsContext extends SubgraphContext {
  service: ProjectsService;
  venues: BookingDesk;
  experts: DrawDesk;
  loaders: ProjectsLoaders;
  ocds: OcdsPublication;
}

type Ref = { id: string };
type Range = { from: Date; to: Date };
const reconciliationOf = (ctx: ProjectsContext) => ctx.service.reconciliation;

export const projectsResolvers: GraphQLResolverMap<ProjectsContext> = {
  DateTime,
  Money,
  Query: {
    project: async (_root: unknown, { id }: Ref, ctx: ProjectsContext) => {
      const project = await ctx.loaders.project.load(id);
      if (!project) return null;
      if (!(await ctx.service.canRead(ctx.identity, project)))
        throw forbidden(
          `your token may not read project ${id}; only its host platform, its supervisors, its agency or PROVINCIAL_ADMIN may`,
        );
      return project;
    },
    projects: (
      _root: unknown,
      args: { status?: ProjectStatus; hostPlatformId?: string; first?: number; after?: string },
      ctx: ProjectsContext,
    ) => ctx.service.listProjects(ctx.identity, args),
    platformBalances: (_root: unknown, { platformId }: { platformId: string }, ctx: ProjectsContext) => {
      // The role is the matrix's; the platform comes from the arguments, so the scope is checked here.
      if (ctx.identity.role === 'PLATFORM_OPERATOR' && ctx.identity.platform !== platformId)
        throw forbidden(`an operator reads the balances of its own platform ${ctx.identity.platform} only`);
      return ctx.service.partnerBalances(platformId);
    },
    verifyProjectArchive: (_root: unknown, { projectId }: { projectId: string }, ctx: ProjectsContext) =>
      verifyProjectArchive(ctx.service, ctx.identity, projectId),
    reconciliationReport: (_root: unknown, { id }: Ref, ctx: ProjectsContext) => reconciliationOf(ctx).readReport(id),
    latestReconciliationReport: (_root: unknown, _args: unknown, ctx: ProjectsContext) =>
      reconciliationOf(ctx).latestReport(),
    projectsEvaluatedBetween: (
      _root: unknown,
      args: Range & { first?: number; after?: string },
      ctx: ProjectsContext,
    ) => reconciliationOf(ctx).projectsEvaluatedBetween(args),
    archiveBundle: async (_root: unknown, { projectId }: { projectId: string }, ctx: ProjectsContext) =>
      JSON.stringify(
        await archiveBundle(
          { projects: ctx.service, venues: ctx.venues, experts: ctx.experts },
          ctx.identity,
          projectId,
        ),
      ),
    archiveReleasePackage: async (_root: unknown, { projectId }: { projectId: string }, ctx: ProjectsContext) => {
      const bundle = await archiveBundle(
        { projects: ctx.service, venues: ctx.venues, experts: ctx.experts },
        ctx.identity,
        projectId,
        { withSealedParts: false },
      );
      return releasePackageJson(releasePackageOf(bundle, ctx.ocds));
    },
  },
  Mutation: {
    submitProject: (_root: unknown, { input }: { input: SubmitProjectInput }, ctx: ProjectsContext) =>
      ctx.service.submitProject(ctx.identity, input),
    fileProject: (
      _root: unknown,
      args: { projectId: string; approve: boolean; note?: string | null },
      ctx: ProjectsContext,
    ) => ctx.service.fileProject(ctx.identity, args.projectId, args.approve, args.note ?? null),
    arrangeVenues: (
      _root: unknown,
      args: { projectId: string; mainRoomId: string; secondary: SeatRequestInput[] },
      ctx: ProjectsContext,
    ) => arrangeVenues({ projects: ctx.service, venues: ctx.venues }, ctx.identity, args),
    cancelProject: (_root: unknown, args: { projectId: string; reason: string }, ctx: ProjectsContext) =>
      cancelProject(ctx.service, ctx.identity, args.projectId, args.reason),
    drawExperts: (
      _root: unknown,
      args: { projectId: string; seats: SeatRequirementInput[]; supervisorNonce?: string | null },
      ctx: ProjectsContext,
    ) =>
      drawExperts(
        { projects: ctx.service, venues: ctx.venues, experts: ctx.experts },
        ctx.identity,
        args.projectId,
        args.seats,
        args.supervisorNonce ?? null,
      ),
    advanceEvaluationFee: (_root: unknown, { projectId }: { projectId: string }, ctx: ProjectsContext) =>
      advanceEvaluationFee({ projects: ctx.service, venues: ctx.venues }, ctx.identity, projectId),
    archiveProject: (_root: unknown, { projectId }: { projectId: string }, ctx: ProjectsContext) =>
      archiveProject({ projects: ctx.service, experts: ctx.experts }, ctx.identity, projectId),
    startEvaluation: (_root: unknown, { projectId }: { projectId: string }, ctx: ProjectsContext) =>
      startEvaluation({ projects: ctx.service, experts: ctx.experts }, ctx.identity, projectId),
    replaceCommitteeMember: (_root: unknown, args: { seatId: string; reason: string }, ctx: ProjectsContext) =>
      replaceCommitteeMember({ projects: ctx.service, experts: ctx.experts }, ctx.identity, args.seatId, args.reason),
    completeEvaluation: (_root: unknown, args: { projectId: string; reportDigest: string }, ctx: ProjectsContext) =>
      completeEvaluation(
        { projects: ctx.service, experts: ctx.experts },
        ctx.identity,
        args.projectId,
        args.reportDigest,
      ),
    runReconciliation: (_root: unknown, { from, to }: Range, ctx: ProjectsContext) =>
      reconciliationOf(ctx).requestReconciliation(ctx.identity, from, to),
  },
  Project: {
    __resolveReference: (ref: Ref, ctx: ProjectsContext) => ctx.loaders.project.load(ref.id),
    hostPlatform: (project: Project) => ({ __typename: 'Platform', id: project.host_platform_id }),
    committeeSize: (project: Project) => project.committee_size,
    tendererRepresentatives: (project: Project) => project.tenderer_representatives,
    procurementMethod: (project: Project) => project.procurement_method,
    evaluationStartsAt: (project: Project) => project.evaluation_starts_at,
    evaluationEndsAt: (project: Project) => project.evaluation_ends_at,
    feeAdvance: (project: Project) => project.fee_advance,
    timeline: (project: Project, _args: unknown, ctx: ProjectsContext) => ctx.loaders.events.load(project.id),
    ledger: (project: Project, _args: unknown, ctx: ProjectsContext) => ctx.loaders.ledger.load(project.id),
  },
  LedgerEntry: {
    settledAt: (entry: LedgerEntry) => entry.settled_at,
    createdAt: (entry: LedgerEntry) => entry.created_at,
  },
  PartnerBalance: {
    partner: (balance: PartnerBalance) => ({ __typename: 'Platform', id: balance.partnerId }),
  },
  ProjectEvent: {
    at: (event: ProjectEvent) => event.at,
  },
  ...reconciliationTypeResolvers,
};

/** What lib/authorization.ts decides a project's scopes from: its host, department, agency and the rooms it booked. */
export const projectsAccessFacts: AccessFactsOf<ProjectsContext> = {
  // The row is loaded already: only the host's parent is looked up (one read per tick).
  Project: (project: Project, ctx: ProjectsContext) => ({
    project: async () => ({
      hostPlatform: project.host_platform_id,
      hostParent: (await ctx.loaders.platform.load(project.host_platform_id))?.parent_id ?? null,
      department: project.department,
      agency: project.agency,
    }),
    roomPlatforms: () => ctx.loaders.roomPlatforms.load(project.id),
  }),
};
