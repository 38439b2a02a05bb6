// Every domain's migrations, in the order they may run (venues first: it creates btree_gist).
import type { Migration } from 'kysely';
import type { Domain } from '../lib/config';
import { expertsMigrations } from '../subgraphs/experts/migrations';
import { projectsMigrations } from '../subgraphs/projects/migrations';
import { venuesMigrations } from '../subgraphs/venues/migrations';

export const DOMAIN_MIGRATIONS: readonly { domain: Domain; migrations: Record<string, Migration> }[] = [
  { domain: 'venues', migrations: venuesMigrations },
  { domain: 'experts', migrations: expertsMigrations },
  { domain: 'projects', migrations: projectsMigrations },
];
