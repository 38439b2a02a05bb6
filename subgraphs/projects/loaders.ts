// Per-request DataLoaders of the projects subgraph.
import { childrenLoader, rowLoader } from '../../lib/loaders';
import { ledgerOfProjects } from './ledger';
import type { ProjectsService } from './service';

export function createProjectsLoaders(service: ProjectsService) {
  return {
    project: rowLoader((ids) => service.projectsByIds(ids), (row) => row.id),
    events: childrenLoader((ids) => service.eventsOfProjects(ids), (row) => row.project_id),
    ledger: childrenLoader((ids) => ledgerOfProjects(service.db, ids), (row) => row.project_id),
  };
}

export type ProjectsLoaders = ReturnType<typeof createProjectsLoaders>;
