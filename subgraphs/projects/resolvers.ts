// Resolvers of the projects subgraph: thin wrappers over the service.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { forbidden } from '../../lib/errors';
import { DateTime, Money } from '../../lib/scalars';
import type { SubgraphContext } from '../../lib/subgraph';
import type { ProjectsLoaders } from './loaders';
import type { SubmitProjectInput } from './rules';
import type { Project, ProjectEvent, ProjectsService } from './service';
import type { ProjectStatus } from './types';
import type { ExpertsService } from '../experts/service';
import type { VenuesService } from '../venues/service';

export interface ProjectsContext extends SubgraphContext {
  service: ProjectsService;
  venues: VenuesService;
  experts: ExpertsService;
  loaders: ProjectsLoaders;
}

type Ref = { id: string };

export const projectsResolvers: GraphQLResolverMap<ProjectsContext> = {
  DateTime,
  Money,
  Query: {
    project: async (_root: unknown, { id }: Ref, ctx: ProjectsContext) => {
      const project = await ctx.loaders.project.load(id);
      if (!project) return null;
      if (!(await ctx.service.canRead(ctx.identity, project))) throw forbidden(`your role may not read project ${id}`);
      return project;
    },
    projects: (_root: unknown, args: { status?: ProjectStatus; hostPlatformId?: string; first?: number; after?: string }, ctx: ProjectsContext) =>
      ctx.service.listProjects(ctx.identity, args),
  },
  Mutation: {
    submitProject: (_root: unknown, { input }: { input: SubmitProjectInput }, ctx: ProjectsContext) => ctx.service.submitProject(ctx.identity, input),
    fileProject: (_root: unknown, args: { projectId: string; approve: boolean; note?: string | null }, ctx: ProjectsContext) =>
      ctx.service.fileProject(ctx.identity, args.projectId, args.approve, args.note ?? null),
  },
  Project: {
    __resolveReference: (ref: Ref, ctx: ProjectsContext) => ctx.loaders.project.load(ref.id),
    hostPlatform: (project: Project) => ({ __typename: 'Platform', id: project.host_platform_id }),
    committeeSize: (project: Project) => project.committee_size,
    tendererRepresentatives: (project: Project) => project.tenderer_representatives,
    evaluationStartsAt: (project: Project) => project.evaluation_starts_at,
    evaluationEndsAt: (project: Project) => project.evaluation_ends_at,
    feeAdvance: (project: Project) => project.fee_advance,
    timeline: (project: Project, _args: unknown, ctx: ProjectsContext) => ctx.loaders.events.load(project.id),
  },
  ProjectEvent: {
    at: (event: ProjectEvent) => event.at,
  },
};
