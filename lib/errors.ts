// The error codes of the public contract (API.md) and constructors that make every refusal say what to change.
import { GraphQLError } from 'graphql';

export const ERROR_CODES = [
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'CONFLICT',
  'INSUFFICIENT_EXPERTS',
  'SEALED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * An error a client sees: its `extensions.code` is one of API.md's, its message says what to change.
 *
 * ```ts
 * throw hubError('BAD_USER_INPUT', 'committeeSize must be odd', { field: 'committeeSize' });
 * ```
 */
export function hubError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export const badInput = (field: string, message: string) =>
  hubError('BAD_USER_INPUT', `${field}: ${message}`, { field });
export const forbidden = (message: string) => hubError('FORBIDDEN', message);
export const notFound = (what: string, id: string) =>
  hubError('NOT_FOUND', `${what} ${id} does not exist; check the id`);
export const conflict = (message: string) => hubError('CONFLICT', message);
export const unauthenticated = (message: string) => hubError('UNAUTHENTICATED', message);

export function codeOf(error: unknown): string | undefined {
  if (error instanceof GraphQLError) return error.extensions?.code as string | undefined;
  return undefined;
}
