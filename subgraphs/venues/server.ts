// The venues subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createVenuesLoaders, type ProjectAccessSource, type SeatHolderSource } from './loaders';
import { venuesAccessFacts, venuesResolvers, type VenuesContext } from './resolvers';
import { VenuesService } from './service';
import type { VenuesDatabase } from './types';

/** `projects` and `seats`: who may see a booking, asked of the projects and experts domains. */
export function venuesSubgraph(
  db: Kysely<VenuesDatabase>,
  projects: ProjectAccessSource,
  seats: SeatHolderSource,
): SubgraphDefinition<VenuesContext> {
  const service = new VenuesService(db);
  return {
    domain: 'venues',
    resolvers: venuesResolvers,
    accessFacts: venuesAccessFacts,
    createContext: (identity) => ({ identity, service, loaders: createVenuesLoaders(service, projects, seats) }),
    ready: () => service.ready(),
  };
}
