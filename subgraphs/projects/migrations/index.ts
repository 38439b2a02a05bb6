// Migrations of schema "projects", in order.
import type { Migration } from 'kysely';
import * as m001 from './001_projects_events_outbox';
import * as m002 from './002_ledger';
import * as m003 from './003_reconciliation';
import * as m004 from './004_procurement_method';
import * as m005 from './005_room_overbooked';

export const projectsMigrations: Record<string, Migration> = {
  '001_projects_events_outbox': m001,
  '002_ledger': m002,
  '003_reconciliation': m003,
  '004_procurement_method': m004,
  '005_room_overbooked': m005,
};
