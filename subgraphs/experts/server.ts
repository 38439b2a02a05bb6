// The experts subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import { systemClock } from '../../lib/clock';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createExpertsLoaders, type ProjectAccessSource } from './loaders';
import type { PlatformLookup } from './pool-import';
import type { ChangeLogSource } from './change-log-source';
import { expertsAccessFacts, expertsResolvers, type ExpertsContext } from './resolvers';
import { DEFAULT_DRAW_POLICY, type DrawPolicy } from './core';
import { ExpertsService } from './service';
import type { ExpertsDatabase } from './types';

/**
 * `projects`: who may see a draw's or seat's project, asked of the projects domain. `platforms`: which platforms exist
 * (the venues domain's; without it, the platforms the pool already references).
 */
export function expertsSubgraph(
  db: Kysely<ExpertsDatabase>,
  projects: ProjectAccessSource,
  policy: DrawPolicy = DEFAULT_DRAW_POLICY,
  platforms?: PlatformLookup,
  changeLogs: Readonly<Record<string, ChangeLogSource>> = {},
): SubgraphDefinition<ExpertsContext> {
  const service = new ExpertsService(db, systemClock, policy);
  const platformLookup = platforms ?? service.poolPlatforms();
  return {
    domain: 'experts',
    resolvers: expertsResolvers,
    accessFacts: expertsAccessFacts,
    createContext: (identity) => ({
      identity,
      service,
      loaders: createExpertsLoaders(service, projects),
      platforms: platformLookup,
      changeLogs,
    }),
    ready: () => service.ready(),
  };
}
