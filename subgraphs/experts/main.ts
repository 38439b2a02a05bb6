// Starts the experts subgraph alone (production: node dist/subgraphs/experts/main.js).
import { loadConfig } from '../../lib/config';
import { runSubgraphMain } from '../../lib/subgraph-main';
import type { ExpertsContext } from './resolvers';
import { expertsSubgraph } from './server';
import { drawPolicyOf } from './service';
import type { ExpertsDatabase } from './types';

runSubgraphMain<ExpertsDatabase, ExpertsContext>('experts', (db) => expertsSubgraph(db, drawPolicyOf(loadConfig())));
