// Opens the three domain databases of one configuration and migrates them: used by npm start, the CLIs and tests.
import type { Kysely } from 'kysely';
import { databaseUrl, type HubConfig } from '../lib/config';
import { migrateDomain, openDomainDatabase, type DomainDatabase } from '../lib/db';
import { DOMAIN_MIGRATIONS } from './migrations';
import type { ExpertsDatabase } from '../subgraphs/experts';
import type { ProjectsDatabase } from '../subgraphs/projects';
import type { VenuesDatabase } from '../subgraphs/venues';

export interface HubDatabases {
  venues: DomainDatabase<VenuesDatabase>;
  experts: DomainDatabase<ExpertsDatabase>;
  projects: DomainDatabase<ProjectsDatabase>;
  close(): Promise<void>;
}

/** Opens the three domain databases; `onQuery` sees every SQL statement (the N+1 test counts them). */
export function openHubDatabases(config: HubConfig, onQuery?: (domain: string, sql: string) => void): HubDatabases {
  const open = <DB>(domain: 'venues' | 'experts' | 'projects') =>
    openDomainDatabase<DB>(
      databaseUrl(config, domain),
      domain,
      config.PG_POOL_SIZE,
      onQuery && ((sql) => onQuery(domain, sql)),
    );
  const venues = open<VenuesDatabase>('venues');
  const experts = open<ExpertsDatabase>('experts');
  const projects = open<ProjectsDatabase>('projects');
  return {
    venues,
    experts,
    projects,
    async close() {
      await Promise.all([venues.close(), experts.close(), projects.close()]);
    },
  };
}

/** Migrates every domain to its latest version; returns the names of the migrations applied now. */
export async function migrateHub(databases: HubDatabases): Promise<string[]> {
  const applied: string[] = [];
  for (const { domain, migrations } of DOMAIN_MIGRATIONS) {
    const db = databases[domain].db as Kysely<unknown>;
    applied.push(...(await migrateDomain(db, domain, migrations)).map((name) => `${domain}/${name}`));
  }
  return applied;
}
