// Per-request DataLoaders of the venues subgraph: every reference and relation is one query per tick.
import DataLoader from 'dataloader';
import type { ProjectAccess } from '../../lib/authorization';
import { childrenLoader, manyByKey, rowLoader } from '../../lib/loaders';
import type { VenuesService } from './service';
import type { Booking, RoomBlock, Window } from './types';

/** A per-request batch of reads by id, as a DataLoader gives it. */
interface ByIdLoader<V> {
  load(id: string): Promise<V>;
}

/** What venues asks of the projects domain: who may see a booking's project (its host, department, agency). */
export interface ProjectAccessSource {
  loader(): ByIdLoader<ProjectAccess | null>;
}

/** What venues asks of the experts domain: the experts invited to a seat of each booking, by booking id. */
export interface SeatHolderSource {
  loader(): ByIdLoader<{ expert_id: string }[]>;
}

/** Groups keys "room|from|to" by window so rooms asked for the same window share one query. */
function byWindow<T>(fetch: (roomIds: string[], window: Window) => Promise<T[]>, roomOf: (row: T) => string) {
  return new DataLoader<{ roomId: string; window: Window }, T[], string>(
    async (keys) => {
      const groups = new Map<string, { window: Window; roomIds: string[] }>();
      for (const { roomId, window } of keys) {
        const id = `${window.from.toISOString()}|${window.to.toISOString()}`;
        const group = groups.get(id) ?? { window, roomIds: [] };
        group.roomIds.push(roomId);
        groups.set(id, group);
      }
      const results = new Map<string, T[]>();
      await Promise.all(
        [...groups.entries()].map(async ([id, group]) => {
          const rows = await fetch(group.roomIds, group.window);
          manyByKey(group.roomIds, rows, roomOf).forEach((list, index) =>
            results.set(`${group.roomIds[index]}|${id}`, list),
          );
        }),
      );
      return keys.map(
        ({ roomId, window }) => results.get(`${roomId}|${window.from.toISOString()}|${window.to.toISOString()}`) ?? [],
      );
    },
    { cacheKeyFn: ({ roomId, window }) => `${roomId}|${window.from.toISOString()}|${window.to.toISOString()}` },
  );
}

export function createVenuesLoaders(service: VenuesService, projects: ProjectAccessSource, seats: SeatHolderSource) {
  return {
    /** Which experts hold a seat of a booking (an expert sees its own seat's booking): asked of the experts domain. */
    seatedExperts: seats.loader(),
    /** Who may see a booking's project (lib/authorization.ts): asked of the projects domain, one read per tick. */
    projectAccess: projects.loader(),
    platform: rowLoader(
      (ids) => service.platformsByIds(ids),
      (row) => row.id,
    ),
    children: childrenLoader(
      (ids) => service.childrenOfPlatforms(ids),
      (row) => row.parent_id!,
    ),
    agreements: childrenLoader(
      (ids) => service.agreementsOfPlatforms(ids),
      (row) => row.platform_id,
    ),
    venue: rowLoader(
      (ids) => service.venuesByIds(ids),
      (row) => row.id,
    ),
    venuesOfPlatform: childrenLoader(
      (ids) => service.venuesOfPlatforms(ids),
      (row) => row.platform_id,
    ),
    room: rowLoader(
      (ids) => service.roomsByIds(ids),
      (row) => row.id,
    ),
    roomsOfVenue: childrenLoader(
      (ids) => service.roomsOfVenues(ids),
      (row) => row.venue_id,
    ),
    booking: rowLoader(
      (ids) => service.bookingsByIds(ids),
      (row) => row.id,
    ),
    bookingsOfProject: childrenLoader(
      (ids) => service.bookingsOfProjects(ids),
      (row) => row.project_id,
    ),
    bookingsOfRoom: byWindow<Booking>(
      (roomIds, window) => service.bookingsOfRooms(roomIds, window),
      (row) => row.room_id,
    ),
    block: rowLoader(
      (ids) => service.blocksByIds(ids),
      (row) => row.id,
    ),
    blocksOfRoom: byWindow<RoomBlock>(
      (roomIds, window) => service.blocksOfRooms(roomIds, window),
      (row) => row.room_id,
    ),
    /** Every version of a platform's rates, newest first. */
    feeRateHistory: childrenLoader(
      (ids) => service.feeRateHistory(ids),
      (row) => row.platform_id,
    ),
    /** A platform's rates in effect now (one read per tick for every platform asked). */
    currentFeeRates: rowLoader(
      (ids) => service.feeRatesAt(ids, service.clock.now()),
      (row) => row.platform_id,
    ),
    freeSeats: byWindow<{ room_id: string; free: number }>(
      async (roomIds, window) =>
        [...(await service.freeSeats(roomIds, window))].map(([room_id, free]) => ({ room_id, free })),
      (row) => row.room_id,
    ),
  };
}

export type VenuesLoaders = ReturnType<typeof createVenuesLoaders>;
