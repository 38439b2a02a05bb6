// The projects subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import { randomIds, systemClock } from '../../lib/clock';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createProjectsLoaders } from './loaders';
import { projectsResolvers, type ProjectsContext } from './resolvers';
import { ProjectsService, type PlatformDirectory } from './service';
import type { ProjectsDatabase } from './types';

export function projectsSubgraph(db: Kysely<ProjectsDatabase>, platforms: PlatformDirectory): SubgraphDefinition<ProjectsContext> {
  const service = new ProjectsService(db, platforms, systemClock, randomIds);
  return {
    domain: 'projects',
    resolvers: projectsResolvers,
    createContext: (identity) => ({ identity, service, loaders: createProjectsLoaders(service) }),
    ready: () => service.ready(),
  };
}
