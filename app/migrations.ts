// Every domain's migrations, in the order they may run (venues first: it creates btree_gist).
import type { Migration } from 'kysely';
import type { Domain } from '../lib/config';
import { expertsMigrations } from '../subgraphs/experts';
import { projectsMigrations } from '../subgraphs/projects';
import { venuesMigrations } from '../subgraphs/venues';

export const DOMAIN_MIGRATIONS: readonly { domain: Domain; migrations: Record<string, Migration> }[] = [
  { domain: 'venues', migrations: venuesMigrations },
  { domain: 'experts', migrations: expertsMigrations },
  { domain: 'projects', migrations: projectsMigrations },
];
