// The projects subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import { randomIds, systemClock } from '../../lib/clock';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createProjectsLoaders } from './loaders';
import { projectsAccessFacts, projectsResolvers, type ProjectsContext } from './resolvers';
import { ProjectsService } from './service';
import type { ProjectsDatabase } from './types';
import type { BookingDesk, DrawDesk } from './desks';
import type { OcdsPublication } from './ocds';

/** What the workflow asks of the other domains (through the desks, never their tables), and how OCDS packages are published. */
export interface ProjectsDependencies {
  venues: BookingDesk;
  experts: DrawDesk;
  ocds: OcdsPublication;
}

export function projectsSubgraph(
  db: Kysely<ProjectsDatabase>,
  dependencies: ProjectsDependencies,
): SubgraphDefinition<ProjectsContext> {
  const service = new ProjectsService(db, dependencies.venues, systemClock, randomIds);
  return {
    domain: 'projects',
    resolvers: projectsResolvers,
    accessFacts: projectsAccessFacts,
    createContext: (identity) => ({
      identity,
      service,
      ...dependencies,
      loaders: createProjectsLoaders(service, dependencies.venues),
    }),
    ready: () => service.ready(),
  };
}
