// Composition of the subgraph SDLs with @apollo/composition; used by `npm run compose` and the staleness test.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

export const SUBGRAPHS = [
  { name: 'venues', port: 4001 },
  { name: 'experts', port: 4002 },
  { name: 'projects', port: 4003 },
] as const;

const SCHEMA_DIR = __dirname.split(/[\\/]/).includes('dist') ? join(__dirname, '..', '..', 'schema') : __dirname;
export const SUPERGRAPH_PATH = join(SCHEMA_DIR, 'supergraph.graphql');

export type CompositionResult = { ok: true; supergraphSdl: string } | { ok: false; errors: string[] };

export function composeSupergraph(): CompositionResult {
  const result = composeServices(
    SUBGRAPHS.map(({ name, port }) => ({
      name,
      url: `http://127.0.0.1:${port}/graphql`,
      typeDefs: parse(readFileSync(join(SCHEMA_DIR, `${name}.graphql`), 'utf8')),
    })),
  );
  if (result.errors) return { ok: false, errors: result.errors.map((error) => error.message) };
  return { ok: true, supergraphSdl: result.supergraphSdl };
}

export function readSupergraph(): string {
  return readFileSync(SUPERGRAPH_PATH, 'utf8');
}
