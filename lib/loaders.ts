// Helpers that turn one batched query's rows into the answers DataLoader expects, in key order.
import DataLoader from 'dataloader';

/** One row (or null) per key. */
export function oneByKey<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K): (R | null)[] {
  const map = new Map<K, R>();
  for (const row of rows) map.set(keyOf(row), row);
  return keys.map((key) => map.get(key) ?? null);
}

/** All rows per key, in row order. */
export function manyByKey<K, R>(keys: readonly K[], rows: readonly R[], keyOf: (row: R) => K): R[][] {
  const map = new Map<K, R[]>();
  for (const row of rows) {
    const list = map.get(keyOf(row));
    if (list) list.push(row);
    else map.set(keyOf(row), [row]);
  }
  return keys.map((key) => map.get(key) ?? []);
}

/** A loader of one row per id: `load(id)` batches every id asked in the same tick into one query. */
export function rowLoader<R>(
  fetch: (ids: readonly string[]) => Promise<R[]>,
  idOf: (row: R) => string,
): DataLoader<string, R | null> {
  return new DataLoader(async (ids) => oneByKey(ids, await fetch(ids), idOf));
}

/** A loader of the rows belonging to each parent id. */
export function childrenLoader<R>(
  fetch: (ids: readonly string[]) => Promise<R[]>,
  parentOf: (row: R) => string,
): DataLoader<string, R[]> {
  return new DataLoader(async (ids) => manyByKey(ids, await fetch(ids), parentOf));
}
