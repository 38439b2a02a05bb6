// Canonical JSON (keys sorted, no spaces): the byte form that archive hashes are computed over.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Serializes a JSON value with object keys in code-point order at every depth.
 *
 * ```ts
 * canonicalJson({ b: 1, a: [true, null] }) === '{"a":[true,null],"b":1}'
 * ```
 */
export function canonicalJson(value: Json): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
}
