// Per-request DataLoaders of the experts subgraph.
import DataLoader from 'dataloader';
import type { ProjectAccess } from '../../lib/authorization';
import { childrenLoader, rowLoader } from '../../lib/loaders';
import type { SealedRead } from './core';
import type { ExpertsService } from './service';

/** What the experts domain asks of the projects domain: who may see a project (the composition root wires its reader). */
export interface ProjectAccessSource {
  loader(): DataLoader<string, ProjectAccess | null>;
}

export function createExpertsLoaders(service: ExpertsService, projects: ProjectAccessSource) {
  return {
    /** Who may see a draw's or seat's project (lib/authorization.ts): asked of the projects domain, one read per tick. */
    projectAccess: projects.loader(),
    expert: rowLoader(
      (ids) => service.expertsByIds(ids),
      (row) => row.id,
    ),
    draw: rowLoader(
      (ids) => service.drawsByIds(ids),
      (row) => row.id,
    ),
    latestDrawOfProject: rowLoader(
      (ids) => service.latestDrawsOfProjects(ids),
      (row) => row.project_id,
    ),
    seat: rowLoader(
      (ids) => service.seatsByIds(ids),
      (row) => row.id,
    ),
    seatsOfDraw: childrenLoader(
      (ids) => service.seatsOfDraws(ids),
      (row) => row.draw_id,
    ),
    unavailabilityOfExpert: childrenLoader(
      (ids) => service.unavailabilityOfExperts(ids),
      (row) => row.expert_id,
    ),
    /** Writes the sealed reads of one tick to the access audit in one statement; every read is recorded, none cached. */
    sealedRead: new DataLoader<SealedRead, true>(
      async (reads) => {
        await service.recordSealedReads(reads);
        return reads.map(() => true as const);
      },
      { cache: false },
    ),
  };
}

export type ExpertsLoaders = ReturnType<typeof createExpertsLoaders>;
