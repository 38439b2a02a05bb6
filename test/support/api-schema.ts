// The composed supergraph as a graphql-js schema, for tests that walk its operations and field types.
import { buildSchema, type GraphQLSchema } from 'graphql';

/** The supergraph SDL carries its own join directive definitions, so graphql-js builds it as it is. */
export function buildSupergraphApiSchema(supergraphSdl: string): GraphQLSchema {
  return buildSchema(supergraphSdl, { assumeValidSDL: true });
}
