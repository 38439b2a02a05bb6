// The venues subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createVenuesLoaders } from './loaders';
import type { SeatAccessReader } from '../experts';
import type { ProjectAccessReader } from '../projects/access';
import { venuesAccessFacts, venuesResolvers, type VenuesContext } from './resolvers';
import { VenuesService } from './service';
import type { VenuesDatabase } from './types';

/** `projects` and `seats`: who may see a booking, asked of the projects and experts domains. */
export function venuesSubgraph(db: Kysely<VenuesDatabase>, projects: ProjectAccessReader, seats: SeatAccessReader): SubgraphDefinition<VenuesContext> {
  const service = new VenuesService(db);
  return {
    domain: 'venues',
    resolvers: venuesResolvers,
    accessFacts: venuesAccessFacts,
    createContext: (identity) => ({ identity, service, loaders: createVenuesLoaders(service, projects, seats) }),
    ready: () => service.ready(),
  };
}
