// Starts the venues subgraph alone (production: node dist/subgraphs/venues/main.js).
import { runSubgraphMain } from '../../lib/subgraph-main';
import type { VenuesContext } from './resolvers';
import { venuesSubgraph } from './server';
import type { VenuesDatabase } from './types';

runSubgraphMain<VenuesDatabase, VenuesContext>('venues', (db) => venuesSubgraph(db));
