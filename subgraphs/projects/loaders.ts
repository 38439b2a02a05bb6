// Per-request DataLoaders of the projects subgraph.
import DataLoader from 'dataloader';
import { childrenLoader, rowLoader } from '../../lib/loaders';
import type { BookingDesk } from './desks';
import type { ProjectsService } from './service';

/** The platforms whose rooms hold a booking of each project (any status): three reads per tick, whatever the count. */
function roomPlatformsLoader(venues: BookingDesk) {
  return new DataLoader<string, string[]>(async (projectIds) => {
    const bookings = await venues.bookingsOfProjects(projectIds);
    const rooms =
      bookings.length > 0 ? await venues.roomsByIds([...new Set(bookings.map((booking) => booking.room_id))]) : [];
    const venuesOfRooms =
      rooms.length > 0 ? await venues.venuesByIds([...new Set(rooms.map((room) => room.venue_id))]) : [];
    const venueOfRoom = new Map(rooms.map((room) => [room.id, room.venue_id]));
    const platformOfVenue = new Map(venuesOfRooms.map((venue) => [venue.id, venue.platform_id]));
    const platforms = new Map<string, Set<string>>();
    for (const booking of bookings) {
      const platform = platformOfVenue.get(venueOfRoom.get(booking.room_id) ?? '');
      if (platform === undefined) continue;
      const set = platforms.get(booking.project_id) ?? new Set<string>();
      set.add(platform);
      platforms.set(booking.project_id, set);
    }
    return projectIds.map((id) => [...(platforms.get(id) ?? [])]);
  });
}

export function createProjectsLoaders(service: ProjectsService, venues: BookingDesk) {
  return {
    project: rowLoader(
      (ids) => service.projectsByIds(ids),
      (row) => row.id,
    ),
    events: childrenLoader(
      (ids) => service.eventsOfProjects(ids),
      (row) => row.project_id,
    ),
    ledger: childrenLoader(
      (ids) => service.ledgerOf(ids),
      (row) => row.project_id,
    ),
    /** A host platform's parent, for the project's supervisors in the parent region (lib/authorization.ts). */
    platform: rowLoader(
      (ids) => venues.platformsByIds(ids),
      (row) => row.id,
    ),
    roomPlatforms: roomPlatformsLoader(venues),
  };
}

export type ProjectsLoaders = ReturnType<typeof createProjectsLoaders>;
