// Per-request DataLoaders of the experts subgraph.
import { childrenLoader, rowLoader } from '../../lib/loaders';
import type { ExpertsService } from './service';

export function createExpertsLoaders(service: ExpertsService) {
  return {
    expert: rowLoader((ids) => service.expertsByIds(ids), (row) => row.id),
    draw: rowLoader((ids) => service.drawsByIds(ids), (row) => row.id),
    latestDrawOfProject: rowLoader((ids) => service.latestDrawsOfProjects(ids), (row) => row.project_id),
    seat: rowLoader((ids) => service.seatsByIds(ids), (row) => row.id),
    seatsOfDraw: childrenLoader((ids) => service.seatsOfDraws(ids), (row) => row.draw_id),
  };
}

export type ExpertsLoaders = ReturnType<typeof createExpertsLoaders>;
