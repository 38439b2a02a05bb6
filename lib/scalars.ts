// The scalars every subgraph shares: DateTime (ISO-8601 with offset) and Money (whole fen as a string).
import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

const ISO_WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

function parseDateTime(value: unknown): Date {
  if (typeof value !== 'string' || !ISO_WITH_OFFSET.test(value)) {
    throw new GraphQLError('DateTime must be an ISO-8601 string with an offset, e.g. 2026-12-01T09:00:00+08:00', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new GraphQLError(`DateTime ${value} is not a real date`, { extensions: { code: 'BAD_USER_INPUT' } });
  return date;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(String(value));
    return date.toISOString();
  },
  parseValue: parseDateTime,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw new GraphQLError('DateTime must be a string', { extensions: { code: 'BAD_USER_INPUT' } });
    return parseDateTime(ast.value);
  },
});

function parseMoney(value: unknown): bigint {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new GraphQLError('Money must be a non-negative whole number of fen up to 2^53-1', { extensions: { code: 'BAD_USER_INPUT' } });
    }
    return BigInt(value);
  }
  if (typeof value === 'string' && /^\d{1,18}$/.test(value)) return BigInt(value);
  throw new GraphQLError('Money must be a string of digits (fen) or a whole number, e.g. "1500000000"', { extensions: { code: 'BAD_USER_INPUT' } });
}

export const Money = new GraphQLScalarType<bigint, string>({
  name: 'Money',
  serialize(value) {
    return BigInt(value as bigint | string | number).toString();
  },
  parseValue: parseMoney,
  parseLiteral(ast) {
    if (ast.kind === Kind.INT) return parseMoney(Number(ast.value) <= Number.MAX_SAFE_INTEGER ? Number(ast.value) : NaN);
    if (ast.kind === Kind.STRING) return parseMoney(ast.value);
    throw new GraphQLError('Money must be a string of digits or a whole number', { extensions: { code: 'BAD_USER_INPUT' } });
  },
});
