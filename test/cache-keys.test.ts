// The ids the response cache adds to a query (gateway/cache-keys.ts): where, where not, that they leave the answer,
// and that asking for them can refuse nothing the client's own fields were not refused already.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { getOperationAST, parse, print, validate } from 'graphql';
import { SUBGRAPHS } from '../schema/supergraph';
import { TYPE_RIGHTS } from '../lib/authorization-matrix/types';
import { isCacheKeyError, KEY_ALIAS, KEYED_FOR_CACHE, withCacheKeys, withoutCacheKeys } from '../gateway/cache-keys';

const schema = composeServices(
  SUBGRAPHS.map(({ name, port }) => ({
    name,
    url: `http://127.0.0.1:${port}/graphql`,
    typeDefs: parse(readFileSync(join(__dirname, '..', 'schema', `${name}.graphql`), 'utf8')),
  })),
)
  .schema!.toAPISchema()
  .toGraphQLJSSchema();

function keyed(source: string): string | null {
  const document = parse(source);
  const result = withCacheKeys(schema, document, getOperationAST(document)!, source);
  if (result) expect(validate(schema, result.document)).toEqual([]);
  return result ? print(result.document).replace(/\s+/g, ' ') : null;
}

it('adds an id to each project and draw selected without one, and nowhere else', () => {
  const board = keyed(`query Board($from: DateTime!, $to: DateTime!) {
    schedule(from: $from, to: $to) { id room { name } project { code status expertDraw { status } } }
  }`);
  expect(board).toContain(`project { code status expertDraw { status ${KEY_ALIAS}: id } ${KEY_ALIAS}: id }`);
  // A booking and a room are not among the types keyed for the cache.
  expect(board).toContain('room { name }');
  // Selected ids (directly or through a fragment) are used as they are.
  expect(keyed('query { project(id: "p") { id code } }')).toBeNull();
  expect(keyed('query { project(id: "p") { ...P } } fragment P on Project { id status }')).toBeNull();
  // In a fragment, the nested project gets its id there.
  expect(
    keyed(
      'query Q($f: DateTime!, $t: DateTime!) { schedule(from: $f, to: $t) { ...B } } fragment B on VenueBooking { project { code } }',
    ),
  ).toContain(`fragment B on VenueBooking { project { code ${KEY_ALIAS}: id } }`);
  // Mutations, and documents using the alias themselves, are left alone.
  expect(keyed(`query { project(id: "p") { ${KEY_ALIAS}: code } }`)).toBeNull();
  expect(keyed('mutation { fileProject(projectId: "p", approve: true, note: "x") { status } }')).toBeNull();
});

it('takes the added ids and the errors about them out of the answer', () => {
  const data = {
    schedule: [
      {
        id: 'bk-1',
        project: { code: 'C', [KEY_ALIAS]: 'prj-1', expertDraw: { status: 'PENDING', [KEY_ALIAS]: 'drw-1' } },
      },
    ],
  };
  withoutCacheKeys(data);
  expect(data).toEqual({ schedule: [{ id: 'bk-1', project: { code: 'C', expertDraw: { status: 'PENDING' } } }] });
  expect(isCacheKeyError({ path: ['schedule', 0, 'project', KEY_ALIAS] })).toBe(true);
  expect(isCacheKeyError({ path: ['schedule', 0, 'project', 'code'] })).toBe(false);
});

it.each(KEYED_FOR_CACHE)('asks for the id of a %s only under the rule of the object itself', (type) => {
  // Whoever may reach the object at all (its reference) may read its id: the added field refuses nothing new.
  expect(TYPE_RIGHTS[`${type}.id`]).toBeDefined();
  expect(TYPE_RIGHTS[`${type}.id`]).toBe(TYPE_RIGHTS[`${type}.__resolveReference`]);
});
