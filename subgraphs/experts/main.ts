// Starts the experts subgraph alone (production: node dist/subgraphs/experts/main.js).
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured } from '../../lib/otel';
startTracingIfConfigured('hub-experts');
import { runSubgraphMain } from '../../app/subgraph-main';
import type { ExpertsContext } from './resolvers';
import { expertsSubgraph } from './server';
import { drawPolicyOf } from './core';
import type { ExpertsDatabase } from './types';
import { ProjectAccessReader, type ProjectsDatabase } from '../projects';
import { VenuesService, type VenuesDatabase } from '../venues';
import { changeLogSourceOf } from '../../app/adapters';

runSubgraphMain<ExpertsDatabase, ExpertsContext>('experts', (db, open, config) => {
  const venues = new VenuesService(open<VenuesDatabase>('venues'));
  return expertsSubgraph(
    db,
    new ProjectAccessReader(open<ProjectsDatabase>('projects'), venues),
    drawPolicyOf(config),
    venues,
    { venues: changeLogSourceOf(venues) },
  );
});
