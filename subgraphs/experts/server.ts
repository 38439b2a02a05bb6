// The experts subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import { systemClock } from '../../lib/clock';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createExpertsLoaders } from './loaders';
import { expertsResolvers, type ExpertsContext } from './resolvers';
import { ExpertsService } from './service';
import type { ExpertsDatabase } from './types';

export function expertsSubgraph(db: Kysely<ExpertsDatabase>): SubgraphDefinition<ExpertsContext> {
  const service = new ExpertsService(db, systemClock);
  return {
    domain: 'experts',
    resolvers: expertsResolvers,
    createContext: (identity) => ({ identity, service, loaders: createExpertsLoaders(service) }),
    ready: () => service.ready(),
  };
}
