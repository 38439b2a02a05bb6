// The README's "Bringing a province's own data" walks through the API with curl; every GraphQL document in its shell
// commands must stay valid against the composed schema, so a renamed field or argument cannot silently break it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse, validate, Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import { SUBGRAPHS } from '../schema/supergraph';

const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`## ${title}\n`);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

/** The single-quoted shell words of the section's sh blocks that are GraphQL documents. */
function walkthroughDocuments(): string[] {
  const shell = [...section("Bringing a province's own data").matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  const words = shell.flatMap((block) => [...block.matchAll(/'([^']*)'/g)].map((m) => m[1].trim()));
  return words.filter((word) => /^(mutation|query)\b/.test(word) || /^\{\s*[a-zA-Z]/.test(word));
}

function rootFields(document: DocumentNode): string[] {
  return document.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .flatMap((d) => d.selectionSet.selections.map((s) => (s.kind === Kind.FIELD ? s.name.value : '')));
}

describe('README walkthrough "Bringing a province\'s own data"', () => {
  const composed = composeServices(
    SUBGRAPHS.map(({ name, port }) => ({
      name,
      url: `http://127.0.0.1:${port}/graphql`,
      typeDefs: parse(readFileSync(join(__dirname, '..', 'schema', `${name}.graphql`), 'utf8')),
    })),
  );
  if (composed.errors) throw new Error(composed.errors.map((e) => e.message).join('\n'));
  const schema = composed.schema.toAPISchema().toGraphQLJSSchema();
  const documents = walkthroughDocuments();

  it('uses every operation it promises', () => {
    const used = documents.flatMap((text) => rootFields(parse(text)));
    expect([...new Set(used)].sort()).toEqual(
      [
        'createRoom',
        'createVenue',
        'experts',
        'importExperts',
        'masterDataChanges',
        'putRoomBlock',
        'setCooperationAgreement',
        'setFeeRates',
        'setPartnerEndpoint',
        'specialties',
        'suspendExpert',
        'testPartnerEndpoint',
      ].sort(),
    );
  });

  it.each(documents.map((text) => [text.replace(/\s+/g, ' ').slice(0, 70), text]))(
    'validates against the composed schema: %s',
    (_label, text) => {
      expect(validate(schema, parse(text)).map((error) => error.message)).toEqual([]);
    },
  );
});
