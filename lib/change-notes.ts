// What a request or a job run changed, noted by the domain code that wrote it, as cache tags (lib/cache-tags.ts). The
// writer knows what it wrote (a booking's rooms, platforms and days); a gateway reading a mutation's arguments does
// not. Notes are kept per async call chain: every GraphQL request a listener serves and every job run collect their
// own; a subgraph returns its notes to the gateway in the response's `hubChanged` extension, a job stamps them.
import { AsyncLocalStorage } from 'node:async_hooks';

/** The response extension a subgraph names its notes in (for the gateway only: the gateway never forwards it). */
export const CHANGED_EXTENSION = 'hubChanged';

const notes = new AsyncLocalStorage<Set<string>>();

/** Notes that the current request or job changed what `tags` name. Outside any collection it is a no-op. */
export function noteChanged(tags: Iterable<string>): void {
  const into = notes.getStore();
  if (into) for (const tag of tags) into.add(tag);
}

/** The notes collected so far by the current collection; undefined outside any. */
export function changesNoted(): ReadonlySet<string> | undefined {
  return notes.getStore();
}

/**
 * Runs `work` collecting what it notes in `into` (a fresh set by default), nested collections included in their own.
 *
 * ```ts
 * const changed = new Set<string>();
 * await collectingChanges(() => handler(job), changed); // changed: ['VenueBooking:bk-1', 'schedule:411700@2027-05-10', …]
 * ```
 */
export function collectingChanges<T>(work: () => T, into: Set<string> = new Set()): T {
  return notes.run(into, work);
}
