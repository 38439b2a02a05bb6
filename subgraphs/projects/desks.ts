// What the projects domain asks of the other two, declared here in its own terms: the BookingDesk (venues: platforms,
// rooms, bookings) and the DrawDesk (experts: draws, seats, the seal's verdicts). Steps, loaders and resolvers use only
// these; the composition root wires adapters (app/adapters.ts), in-process today, so whether they call a service or
// another subgraph is the adapters' business alone.
import type { Identity } from '../../lib/identity';

// ------------------------------------------------------------------------------------------------ venues

export interface DeskPlatform {
  id: string;
  name: string;
  level: 'PROVINCE' | 'CITY' | 'COUNTY';
  parent_id: string | null;
  /** Fen, as int8 strings. */
  expert_fee_rate: string;
  seat_service_fee: string;
}

export interface DeskRoom {
  id: string;
  venue_id: string;
  name: string;
  seats: number;
  video_terminal: boolean;
}

export interface DeskBooking {
  id: string;
  project_id: string;
  room_id: string;
  role: 'MAIN' | 'SECONDARY';
  seats: number;
  starts_at: Date;
  ends_at: Date;
  status: 'HELD' | 'CONFIRMED' | 'REJECTED' | 'EXPIRED' | 'RELEASED';
}

/** A room as arrangeVenues checks it: its platform, whether the host may book it, its free seats over the window. */
export type ArrangementRoomFacts = DeskRoom & { platform_id: string; partner: boolean; free: number };

export interface BookingWindow {
  from: Date;
  to: Date;
}

/** What the projects domain asks of venues. */
export interface BookingDesk {
  platformsByIds(ids: readonly string[]): Promise<DeskPlatform[]>;
  childrenOfPlatforms(ids: readonly string[]): Promise<DeskPlatform[]>;
  venuesByIds(ids: readonly string[]): Promise<{ id: string; platform_id: string }[]>;
  roomsByIds(ids: readonly string[]): Promise<DeskRoom[]>;
  roomsWithPlatform(ids: readonly string[]): Promise<(DeskRoom & { platform_id: string })[]>;
  /** The rooms asked for, with what the host's arrangement needs to know of each over the window. */
  roomsForArrangement(
    hostId: string,
    roomIds: readonly string[],
    window: BookingWindow,
  ): Promise<ArrangementRoomFacts[]>;
  /** Every booking of the projects, whatever its status. */
  bookingsOfProjects(projectIds: readonly string[]): Promise<DeskBooking[]>;
  /** Each platform's rates in effect at an instant (fen, as int8 strings): the fee advance asks for its evaluation's start. */
  feeRatesAt(
    platformIds: readonly string[],
    at: Date,
  ): Promise<{ platform_id: string; expert_fee_rate: string; seat_service_fee: string }[]>;
}

// ------------------------------------------------------------------------------------------------ experts

/** A draw as the projects domain reads it, with the experts' sealing rule already applied to its seed. */
export interface ProjectDraw {
  id: string;
  project_id: string;
  status: string;
  seed_commitment: string;
  supervisor_nonce: string | null;
  unsealed_at: Date | null;
  /** The seal lifted (the evaluation started): what allows recomputing the committee may be shown from now on. */
  sealLifted: boolean;
  /** The seed as anyone may read it: null until the seal lifts. */
  revealedSeed: string | null;
}

export interface DrawSeat {
  id: string;
  draw_id: string;
  project_id: string;
  booking_id: string;
  room_id: string;
  group_key: string | null;
  specialty: string;
  round: number;
  status: string;
  replaces_seat_id: string | null;
  expert_id: string | null;
}

export interface DrawGroupFacts {
  group_key: string;
  booking_id: string;
  room_id: string;
  platform_id: string;
  role: string;
  specialty: string;
  seats: number;
}

export interface DrawRoundFacts {
  group_key: string;
  round: number;
  candidates: string[];
  candidates_digest: string;
  host_region_candidates: string[];
  host_quota: number | null;
  wanted: number;
  counter_start: string;
  counter_end: string;
  selected: string[];
  outcome: string;
}

/** What drawExperts asks the experts domain to draw. */
export interface DrawOrder {
  projectId: string;
  hostPlatformId: string;
  hostParentId: string | null;
  department: string;
  mode: 'LOCAL' | 'REMOTE';
  startsAt: Date;
  endsAt: Date;
  supervisorNonce: string | null;
  groups: {
    bookingId: string;
    roomId: string;
    platformId: string;
    role: 'MAIN' | 'SECONDARY';
    specialty: string;
    seats: number;
  }[];
}

/** An attempt to enter a project's evaluation area, as its timeline records it. */
export interface AccessAttemptEntry {
  id: string;
  event: { kind: string; actor: string; detail: string; data: { [key: string]: string | null } };
}

/** What the projects domain asks of experts. */
export interface DrawDesk {
  requestDraw(order: DrawOrder): Promise<{ id: string; seed_commitment: string }>;
  failDraw(drawId: string, reason: string): Promise<void>;
  /** Every draw of the project (failed ones too), oldest first. */
  drawsOfProject(projectId: string): Promise<ProjectDraw[]>;
  groupsOfDraw(drawId: string): Promise<DrawGroupFacts[]>;
  roundsOfDraw(drawId: string): Promise<DrawRoundFacts[]>;
  seatsOfDraws(drawIds: readonly string[]): Promise<DrawSeat[]>;
  seatsOfProject(projectId: string, options?: { liveOnly?: boolean }): Promise<DrawSeat[]>;
  getSeat(seatId: string): Promise<DrawSeat>;
  expertsByIds(ids: readonly string[]): Promise<{ id: string; name: string }[]>;
  /** Withdraws a seat during the evaluation and draws its replacement from the next round of its group. */
  drawReplacement(seatId: string, reason: string): Promise<DrawSeat>;
  /** The evaluation started: the committee is readable by the host's operators and the project's supervisors. */
  unsealCommittee(projectId: string): Promise<void>;
  /** Every attempt to enter the project's evaluation area, in order. */
  accessAttemptsOfProject(projectId: string): Promise<AccessAttemptEntry[]>;
  /** Whether `reader` may see now who holds the seat (the experts' sealing rule). */
  mayReadSeatExpert(reader: Identity, draw: ProjectDraw, seat: DrawSeat): Promise<boolean>;
  /** Writes the sealed-access audit of `reader` having been shown the experts of these seats (of their draws) through `field`. */
  recordSealedReads(
    reader: Identity,
    field: string,
    reads: readonly { draw: ProjectDraw; seat: DrawSeat }[],
  ): Promise<void>;
}
