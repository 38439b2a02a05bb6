// What `masterDataChanges` asks of the other domains that keep master data (the venues domain's platforms, rooms,
// agreements, fee rates and endpoints): their change records, a slice at a time. The composition root (app/adapters.ts)
// wires an adapter per domain; this subgraph merges them with the pool's own records (lib/master-data-log.ts).
import type { ChangeFilter, ChangePage, ChangeSlice, NamedChangeSource } from '../../lib/master-data-log';

export interface ChangeLogSource {
  /** Up to `page.limit` records after `page.before`, newest first (at desc, id desc), and how many match in all. */
  masterDataChanges(filter: ChangeFilter, page: ChangePage): Promise<ChangeSlice>;
}

/** The pool's own records are named `experts`; another domain's by the key it is wired under. */
export const OWN_SOURCE = 'experts';

export function namedSources(
  own: ChangeLogSource,
  others: Readonly<Record<string, ChangeLogSource>>,
): NamedChangeSource[] {
  return [
    { source: OWN_SOURCE, masterDataChanges: (filter, page) => own.masterDataChanges(filter, page) },
    ...Object.entries(others).map(([source, log]) => ({
      source,
      masterDataChanges: (filter: ChangeFilter, page: ChangePage) => log.masterDataChanges(filter, page),
    })),
  ];
}

/** A record's id as the merged list shows it: the pool's as they are, another domain's prefixed with its name. */
export function shownChangeId(source: string, id: string): string {
  return source === OWN_SOURCE ? id : `${source}-${id}`;
}
