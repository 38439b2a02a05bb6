// The venues subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createVenuesLoaders } from './loaders';
import { venuesResolvers, type VenuesContext } from './resolvers';
import { VenuesService } from './service';
import type { VenuesDatabase } from './types';

export function venuesSubgraph(db: Kysely<VenuesDatabase>): SubgraphDefinition<VenuesContext> {
  const service = new VenuesService(db);
  return {
    domain: 'venues',
    resolvers: venuesResolvers,
    createContext: (identity) => ({ identity, service, loaders: createVenuesLoaders(service) }),
    ready: () => service.ready(),
  };
}
