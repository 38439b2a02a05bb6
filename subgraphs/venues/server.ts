// The venues subgraph definition: its resolvers and the per-request context.
import type { Kysely } from 'kysely';
import type { SubgraphDefinition } from '../../lib/subgraph';
import { createVenuesLoaders, type ProjectAccessSource, type SeatHolderSource } from './loaders';
import { venuesAccessFacts, venuesResolvers, type VenuesContext } from './resolvers';
import { UNCONFIGURED_DELIVERY, type PartnerDeliverySettings } from './endpoints';
import { VenuesService } from './service';
import type { VenuesDatabase } from './types';

/**
 * `projects` and `seats`: who may see a booking, asked of the projects and experts domains. `delivery`: how partner
 * endpoints are checked and pinged (deliverySettingsOf the configuration).
 */
export function venuesSubgraph(
  db: Kysely<VenuesDatabase>,
  projects: ProjectAccessSource,
  seats: SeatHolderSource,
  delivery: PartnerDeliverySettings = UNCONFIGURED_DELIVERY,
): SubgraphDefinition<VenuesContext> {
  const service = new VenuesService(db, undefined, delivery);
  return {
    domain: 'venues',
    resolvers: venuesResolvers,
    accessFacts: venuesAccessFacts,
    createContext: (identity) => ({ identity, service, loaders: createVenuesLoaders(service, projects, seats) }),
    ready: () => service.ready(),
  };
}
