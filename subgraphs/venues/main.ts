// Starts the venues subgraph alone (production: node dist/subgraphs/venues/main.js).
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured } from '../../lib/otel';
startTracingIfConfigured('hub-venues');
import { runSubgraphMain } from '../../app/subgraph-main';
import type { VenuesContext } from './resolvers';
import { venuesSubgraph } from './server';
import { SeatAccessReader, type ExpertsDatabase } from '../experts';
import { ProjectAccessReader, type ProjectsDatabase } from '../projects';
import { VenuesService } from './service';
import { deliverySettingsOf } from './endpoints';
import type { VenuesDatabase } from './types';

runSubgraphMain<VenuesDatabase, VenuesContext>('venues', (db, open, config) =>
  venuesSubgraph(
    db,
    new ProjectAccessReader(open<ProjectsDatabase>('projects'), new VenuesService(db)),
    new SeatAccessReader(open<ExpertsDatabase>('experts')),
    deliverySettingsOf(config),
  ),
);
