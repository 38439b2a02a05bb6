// Starts the projects subgraph alone (production: node dist/subgraphs/projects/main.js).
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured } from '../../lib/otel';
startTracingIfConfigured('hub-projects');
import { systemClock } from '../../lib/clock';
import { runSubgraphMain } from '../../app/subgraph-main';
import { drawPolicyOf, ExpertsService } from '../experts/service';
import type { ExpertsDatabase } from '../experts/types';
import { VenuesService } from '../venues/service';
import type { VenuesDatabase } from '../venues/types';
import { ocdsPublicationOf } from './ocds';
import type { ProjectsContext } from './resolvers';
import { projectsSubgraph } from './server';
import type { ProjectsDatabase } from './types';

runSubgraphMain<ProjectsDatabase, ProjectsContext>('projects', (db, open, config) =>
  projectsSubgraph(db, {
    venues: new VenuesService(open<VenuesDatabase>('venues')),
    experts: new ExpertsService(open<ExpertsDatabase>('experts'), systemClock, drawPolicyOf(config)),
    ocds: ocdsPublicationOf(config),
  }),
);
