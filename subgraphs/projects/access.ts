// What the other subgraphs need to decide who may see a project's objects (lib/authorization.ts, AccessFacts): the
// project's host, the host's parent, its department and its agency. The venues and experts subgraphs reach a project
// only by id (a booking's or a draw's), so they ask here, one batched read per tick.
import type { Kysely } from 'kysely';
import type { ProjectAccess } from '../../lib/authorization';
import { rowLoader } from '../../lib/loaders';
import type { PlatformDirectory } from './service';
import type { ProjectsDatabase } from './types';

export type ProjectAccessRow = ProjectAccess & { id: string };

export class ProjectAccessReader {
  constructor(
    private readonly db: Kysely<ProjectsDatabase>,
    private readonly platforms: PlatformDirectory,
  ) {}

  async byIds(ids: readonly string[]): Promise<ProjectAccessRow[]> {
    const rows = await this.db
      .selectFrom('project')
      .select(['id', 'host_platform_id', 'department', 'agency'])
      .where('id', 'in', [...ids])
      .execute();
    if (rows.length === 0) return [];
    const hosts = await this.platforms.platformsByIds([...new Set(rows.map((row) => row.host_platform_id))]);
    const parentOf = new Map(hosts.map((host) => [host.id, host.parent_id]));
    return rows.map((row) => ({
      id: row.id,
      hostPlatform: row.host_platform_id,
      hostParent: parentOf.get(row.host_platform_id) ?? null,
      department: row.department,
      agency: row.agency,
    }));
  }

  /** A per-request loader: every project asked in one tick is one read of projects and one of their hosts. */
  loader() {
    return rowLoader(
      (ids) => this.byIds(ids),
      (row) => row.id,
    );
  }
}
