// The experts subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import { systemClock } from '../../lib/clock';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createExpertsLoaders } from './loaders';
import { expertsResolvers, type ExpertsContext } from './resolvers';
import { DEFAULT_DRAW_POLICY, ExpertsService, type DrawPolicy } from './service';
import type { ExpertsDatabase } from './types';

export function expertsSubgraph(db: Kysely<ExpertsDatabase>, policy: DrawPolicy = DEFAULT_DRAW_POLICY): SubgraphDefinition<ExpertsContext> {
  const service = new ExpertsService(db, systemClock, policy);
  return {
    domain: 'experts',
    resolvers: expertsResolvers,
    createContext: (identity) => ({ identity, service, loaders: createExpertsLoaders(service) }),
    ready: () => service.ready(),
  };
}
