// Migrations of schema "projects", in order.
import type { Migration } from 'kysely';
import * as m001 from './001_projects_events_outbox';

export const projectsMigrations: Record<string, Migration> = {
  '001_projects_events_outbox': m001,
};
