// The adapters that give the projects domain what it asks of the other two (subgraphs/projects/desks.ts): in-process,
// over the venues and experts services (docs/decisions/0001). Swapping them for calls to the other subgraphs touches
// this file only.
import { systemClock, type Clock } from '../lib/clock';
import type { HubConfig } from '../lib/config';
import type { OpenDomain } from './subgraph-main';
import {
  drawPolicyOf,
  drawSealLifted,
  ExpertsService,
  mayReadSeatExpert,
  revealedSeed,
  sealedRead,
  timelineEventOf,
  type CommitteeSeat,
  type Draw,
  type ChangeLogSource,
  type ExpertsDatabase,
} from '../subgraphs/experts';
import type { BookingDesk, DrawDesk, DrawSeat, ProjectDraw } from '../subgraphs/projects';
import { VenuesService } from '../subgraphs/venues';
import type { VenuesDatabase } from '../subgraphs/venues';

/** The venues service already answers every question of the BookingDesk under the same names. */
export function bookingDeskOf(venues: VenuesService): BookingDesk {
  return {
    platformsByIds: (ids) => venues.platformsByIds(ids),
    childrenOfPlatforms: (ids) => venues.childrenOfPlatforms(ids),
    venuesByIds: (ids) => venues.venuesByIds(ids),
    roomsByIds: (ids) => venues.roomsByIds(ids),
    roomsWithPlatform: (ids) => venues.roomsWithPlatform(ids),
    roomsForArrangement: (hostId, roomIds, window) => venues.roomsForArrangement(hostId, roomIds, window),
    bookingsOfProjects: (projectIds) => venues.bookingsOfProjects(projectIds),
    feeRatesAt: (platformIds, at) => venues.feeRatesAt(platformIds, at),
  };
}

/** The venues domain's change records, for the experts subgraph's masterDataChanges. */
export function changeLogSourceOf(venues: VenuesService): ChangeLogSource {
  return { masterDataChanges: (filter, page) => venues.masterDataChanges(filter, page) };
}

/**
 * The experts service and its sealing rule behind the DrawDesk. Draws and seats handed out are remembered (weakly), so
 * that the sealing questions asked about them later are decided on the experts' own rows without reading them again.
 */
export function drawDeskOf(experts: ExpertsService): DrawDesk {
  const draws = new WeakMap<ProjectDraw, Draw>();
  const seats = new WeakMap<DrawSeat, CommitteeSeat>();
  const handDraw = (draw: Draw): ProjectDraw => {
    const shown: ProjectDraw = { ...draw, sealLifted: drawSealLifted(draw), revealedSeed: revealedSeed(draw) };
    draws.set(shown, draw);
    return shown;
  };
  const handSeats = (rows: CommitteeSeat[]): DrawSeat[] => {
    for (const row of rows) seats.set(row, row);
    return rows;
  };
  const rawDraw = async (draw: ProjectDraw) => draws.get(draw) ?? experts.getDraw(draw.id);
  const rawSeat = async (seat: DrawSeat) => seats.get(seat) ?? experts.getSeat(seat.id);
  return {
    requestDraw: (order) => experts.requestDraw(order),
    failDraw: (drawId, reason) => experts.failDraw(drawId, reason),
    drawsOfProject: async (projectId) => (await experts.drawsOfProject(projectId)).map(handDraw),
    groupsOfDraw: (drawId) => experts.groupsOfDraw(drawId),
    roundsOfDraw: (drawId) => experts.roundsOfDraw(drawId),
    seatsOfDraws: async (drawIds) => handSeats(await experts.seatsOfDraws(drawIds)),
    seatsOfProject: async (projectId, options) => handSeats(await experts.seatsOfProject(projectId, options)),
    getSeat: async (seatId) => (await handSeats([await experts.getSeat(seatId)]))[0],
    expertsByIds: (ids) => experts.expertsByIds(ids),
    drawReplacement: async (seatId, reason) => (await handSeats([await experts.drawReplacement(seatId, reason)]))[0],
    unsealCommittee: (projectId) => experts.unsealCommittee(projectId),
    accessAttemptsOfProject: async (projectId) =>
      (await experts.accessAttemptsOfProject(projectId)).map((attempt) => ({
        id: attempt.id,
        event: timelineEventOf(attempt),
      })),
    mayReadSeatExpert: async (reader, draw, seat) =>
      mayReadSeatExpert(reader, { draw: await rawDraw(draw), seat: await rawSeat(seat) }),
    recordSealedReads: async (reader, field, reads) => {
      const rows = [];
      for (const read of reads)
        rows.push(sealedRead(reader, field, { draw: await rawDraw(read.draw), seat: await rawSeat(read.seat) }));
      await experts.recordSealedReads(rows);
    },
  };
}

/** The desks of a projects process that runs alone: the other domains' services over their own databases. */
export function inProcessDesks(
  open: OpenDomain,
  config: HubConfig,
  clock: Clock = systemClock,
): { venues: BookingDesk; experts: DrawDesk } {
  return {
    venues: bookingDeskOf(new VenuesService(open<VenuesDatabase>('venues'), clock)),
    experts: drawDeskOf(new ExpertsService(open<ExpertsDatabase>('experts'), clock, drawPolicyOf(config))),
  };
}
