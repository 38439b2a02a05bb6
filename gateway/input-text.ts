// Text the databases cannot store is refused at the gateway, as the caller's mistake, before any subgraph sees it.
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';

/**
 * Postgres refuses U+0000 in text ("invalid byte sequence"), which surfaced as INTERNAL_SERVER_ERROR with Postgres' own
 * message and an error log with a stack per request; a lone surrogate is not Unicode at all and would be stored as
 * U+FFFD, silently changed. Both are refused here for every string and ID, in literals and in variables.
 */
// eslint-disable-next-line no-control-regex
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function describe(text: string): string {
  return text.includes('\u0000') ? 'a NUL character (U+0000)' : 'a lone UTF-16 surrogate (not a Unicode character)';
}

function refuse(where: string, text: string): GraphQLError {
  return new GraphQLError(
    `${where} contains ${describe(text)}, which the hub cannot store; remove it and send the request again`,
    {
      extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
    },
  );
}

function checkValue(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (UNSTORABLE.test(value)) throw refuse(`variable ${path}`, value);
  } else if (Array.isArray(value)) {
    value.forEach((item, index) => checkValue(item, `${path}[${index}]`));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkValue(item, `${path}.${key}`);
  }
}

/** Throws BAD_USER_INPUT for the first string literal or variable value that holds unstorable text. */
export function checkInputText(document: DocumentNode, variables: Record<string, unknown> | undefined): void {
  visit(document, {
    [Kind.STRING](node) {
      if (UNSTORABLE.test(node.value))
        throw refuse(`the string at line ${node.loc?.startToken.line ?? '?'} of the query`, node.value);
    },
  });
  for (const [name, value] of Object.entries(variables ?? {})) checkValue(value, `$${name}`);
}

export function inputTextPlugin<C extends BaseContext>(): ApolloServerPlugin<C> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          checkInputText(document, request.variables);
        },
      };
    },
  };
}
