// Starts the projects subgraph alone (production: node dist/subgraphs/projects/main.js). A process entry, so it wires
// the desks the domain asks for from the composition root (app/adapters.ts).
// Tracing first (when configured): its instrumentation patches http and pg only for modules loaded after it.
import { startTracingIfConfigured } from '../../lib/otel';
startTracingIfConfigured('hub-projects');
import { runSubgraphMain } from '../../app/subgraph-main';
import { inProcessDesks } from '../../app/adapters';
import { ocdsPublicationOf } from './ocds';
import type { ProjectsContext } from './resolvers';
import { projectsSubgraph } from './server';
import type { ProjectsDatabase } from './types';

runSubgraphMain<ProjectsDatabase, ProjectsContext>('projects', (db, open, config) =>
  projectsSubgraph(db, { ...inProcessDesks(open, config), ocds: ocdsPublicationOf(config) }),
);
