// The scalars every subgraph shares: DateTime (ISO-8601 with offset) and Money (whole fen as a string).
import { GraphQLError, GraphQLScalarType, isScalarType, Kind, type GraphQLSchema } from 'graphql';

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2}))$/;

const badDateTime = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT' } });

/**
 * A DateTime is a real calendar instant: `new Date` alone would turn 2027-02-30 into 2027-03-02, so every field is
 * checked against the calendar before it is read.
 */
function parseDateTime(value: unknown): Date {
  const match = typeof value === 'string' ? ISO_WITH_OFFSET.exec(value) : null;
  if (!match) throw badDateTime('DateTime must be an ISO-8601 string with an offset, e.g. 2026-12-01T09:00:00+08:00');
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((group) => Number(match[group] ?? 0));
  const daysInMonth = month >= 1 && month <= 12 ? new Date(Date.UTC(year, month, 0)).getUTCDate() : 0;
  const offsetOk = match[8] === 'Z' || (Number(match[9]) <= 14 && Number(match[10]) < 60);
  if (year < 1 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || !offsetOk) {
    throw badDateTime(
      `DateTime ${String(value)} is not a real calendar instant; check the month, day, time and offset`,
    );
  }
  return new Date(value as string);
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING)
      throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDateTime(ast.value);
  },
});

function parseMoney(value: unknown): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new GraphQLError('Money must be a non-negative whole number of fen up to 2^53-1', {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return BigInt(value);
  }
  if (typeof value === 'string' && /^\d{1,18}$/.test(value)) return BigInt(value);
  throw new GraphQLError('Money must be a string of digits (fen) or a whole number, e.g. "1500000000"', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

export const Money = new GraphQLScalarType<bigint, string>({
  name: 'Money',
  serialize(value) {
    return BigInt(value as bigint | string | number).toString();
  },
  parseValue: parseMoney,
  parseLiteral(ast) {
    if (ast.kind === Kind.INT)
      return parseMoney(Number(ast.value) <= Number.MAX_SAFE_INTEGER ? Number(ast.value) : NaN);
    if (ast.kind === Kind.STRING) return parseMoney(ast.value);
    throw new GraphQLError('Money must be a string of digits or a whole number', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  },
});

/**
 * The gateway's schema comes from the supergraph, whose custom scalars accept anything; a bad DateTime or Money would
 * then be planned and refused by a subgraph with `data: null`. This gives the schema's scalar types the checks of the
 * real ones, so the gateway refuses a bad literal (validation) or variable (coercion) before planning, as graphql-js
 * does for Int. Values pass through unchanged: the gateway forwards what the client sent, and the subgraph parses it.
 */
export function checkHubScalarsIn(schema: GraphQLSchema): void {
  for (const scalar of [DateTime, Money] as GraphQLScalarType[]) {
    const type = schema.getType(scalar.name);
    if (!isScalarType(type) || type === scalar) continue;
    type.parseValue = (value) => {
      scalar.parseValue(value);
      return value;
    };
    type.parseLiteral = (ast, variables) => {
      scalar.parseLiteral(ast, variables);
      return ast.kind === Kind.STRING || ast.kind === Kind.INT ? ast.value : undefined;
    };
  }
}
