// Starts the projects subgraph alone (production: node dist/subgraphs/projects/main.js).
import { runSubgraphMain } from '../../lib/subgraph-main';
import { VenuesService } from '../venues/service';
import type { VenuesDatabase } from '../venues/types';
import type { ProjectsContext } from './resolvers';
import { projectsSubgraph } from './server';
import type { ProjectsDatabase } from './types';

runSubgraphMain<ProjectsDatabase, ProjectsContext>('projects', (db, open) => projectsSubgraph(db, new VenuesService(open<VenuesDatabase>('venues'))));
