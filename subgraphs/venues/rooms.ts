// Venues and rooms kept through the API (MASTER-DATA.md, "Venues, rooms and blocks"): a platform's own operators and
// the province create venues and rooms, change a room's seats, name or terminal, and retire it. Each change writes one
// master-data change record in its own transaction; a refused change writes nothing.
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { actorOf, recordMasterDataChange } from '../../lib/master-data-audit';
import type { Room, Venue, VenuesDatabase, VenuesStore } from './types';

export const MIN_ROOM_SEATS = 1;
export const MAX_ROOM_SEATS = 500;
const MAX_NAME_LENGTH = 200;
/** How many holders a CONFLICT names before it says "and N more". */
const NAMED_HOLDERS = 10;

export interface VenueInput {
  name: string;
  address?: string | null;
}
export interface RoomInput {
  name: string;
  seats: number;
  videoTerminal: boolean;
}
export interface RoomPatch {
  name?: string | null;
  seats?: number | null;
  videoTerminal?: boolean | null;
}

/** Who may keep a platform's rooms: its own operators (and, when `partnerToo`, its partner system), or the province. */
export function requireKeeper(identity: Identity, platformId: string, what: string, partnerToo = false): void {
  if (identity.role === 'PROVINCIAL_ADMIN') return;
  const roles = partnerToo ? ['PLATFORM_OPERATOR', 'PARTNER_SYSTEM'] : ['PLATFORM_OPERATOR'];
  if (roles.includes(identity.role) && identity.platform === platformId) return;
  throw forbidden(
    `only ${partnerToo ? 'the operators or partner system' : 'the operators'} of platform ${platformId}, or a PROVINCIAL_ADMIN, may ${what}`,
  );
}

export function checkName(field: string, value: string): string {
  const name = value.trim();
  if (name.length === 0) throw badInput(field, 'must not be empty; give the name people use for it');
  if (name.length > MAX_NAME_LENGTH)
    throw badInput(field, `is ${name.length} characters; use at most ${MAX_NAME_LENGTH}`);
  return name;
}

export function checkSeats(field: string, seats: number): number {
  if (!Number.isInteger(seats) || seats < MIN_ROOM_SEATS || seats > MAX_ROOM_SEATS)
    throw badInput(
      field,
      `is ${seats}; a room has a whole number of seats from ${MIN_ROOM_SEATS} to ${MAX_ROOM_SEATS}`,
    );
  return seats;
}

function roomFields(room: Room) {
  return {
    name: room.name,
    seats: room.seats,
    videoTerminal: room.video_terminal,
    retired: room.retired_at !== null,
  };
}

export async function createVenue(
  { db }: VenuesStore,
  identity: Identity,
  platformId: string,
  input: VenueInput,
): Promise<Venue> {
  requireKeeper(identity, platformId, 'create its venues');
  const name = checkName('input.name', input.name);
  const address = input.address == null ? null : input.address.trim() || null;
  if (address && address.length > 500)
    throw badInput('input.address', `is ${address.length} characters; use at most 500`);
  return db.transaction().execute(async (trx) => {
    const platform = await trx.selectFrom('platform').select('id').where('id', '=', platformId).executeTakeFirst();
    if (!platform) throw notFound('platform', platformId);
    const venue = await trx
      .insertInto('venue')
      .values({ id: `venue-${platformId}-${randomUUID().slice(0, 8)}`, platform_id: platformId, name, address })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'Venue',
      entityId: venue.id,
      before: null,
      after: { platformId, name, address },
    });
    return venue;
  });
}

export async function createRoom(
  { db }: VenuesStore,
  identity: Identity,
  venueId: string,
  input: RoomInput,
): Promise<Room> {
  const name = checkName('input.name', input.name);
  const seats = checkSeats('input.seats', input.seats);
  return db.transaction().execute(async (trx) => {
    const venue = await trx.selectFrom('venue').selectAll().where('id', '=', venueId).executeTakeFirst();
    if (!venue) throw notFound('venue', venueId);
    requireKeeper(identity, venue.platform_id, `create rooms in venue ${venueId}`);
    const room = await trx
      .insertInto('room')
      .values({
        id: `room-${venue.platform_id}-${randomUUID().slice(0, 8)}`,
        venue_id: venueId,
        name,
        seats,
        video_terminal: input.videoTerminal,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await addSeatRowsIn(trx, room.id, seats);
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'EvaluationRoom',
      entityId: room.id,
      before: null,
      after: { venueId, ...roomFields(room) },
    });
    return room;
  });
}

export async function updateRoom(
  store: VenuesStore,
  identity: Identity,
  roomId: string,
  patch: RoomPatch,
): Promise<Room> {
  const name = patch.name == null ? undefined : checkName('patch.name', patch.name);
  const seats = patch.seats == null ? undefined : checkSeats('patch.seats', patch.seats);
  const videoTerminal = patch.videoTerminal ?? undefined;
  return store.db.transaction().execute(async (trx) => {
    const { room, platformId } = await lockRoomIn(trx, roomId);
    requireKeeper(identity, platformId, `change room ${roomId}`);
    if (room.retired_at) throw conflict(`room ${roomId} was retired; create a new room instead of changing it`);
    const changed = {
      name: name ?? room.name,
      seats: seats ?? room.seats,
      video_terminal: videoTerminal ?? room.video_terminal,
    };
    if (changed.name === room.name && changed.seats === room.seats && changed.video_terminal === room.video_terminal)
      return room;
    if (changed.seats < room.seats) {
      const holders = await futureHoldersIn(store, trx, roomId, changed.seats);
      if (holders.length > 0)
        throw conflict(
          `room ${roomId} cannot go down to ${changed.seats} seats: ${describeHolders(holders)} hold seats above ${changed.seats} in future windows; release or move them first, or keep ${room.seats} seats`,
        );
    }
    if (changed.seats > room.seats) await addSeatRowsIn(trx, roomId, changed.seats);
    const updated = await trx
      .updateTable('room')
      .set(changed)
      .where('id', '=', roomId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'EvaluationRoom',
      entityId: roomId,
      before: roomFields(room),
      after: roomFields(updated),
    });
    return updated;
  });
}

export async function retireRoom(store: VenuesStore, identity: Identity, roomId: string): Promise<Room> {
  return store.db.transaction().execute(async (trx) => {
    const { room, platformId } = await lockRoomIn(trx, roomId);
    requireKeeper(identity, platformId, `retire room ${roomId}`);
    if (room.retired_at) return room;
    const holders = await futureHoldersIn(store, trx, roomId, 0);
    if (holders.length > 0)
      throw conflict(
        `room ${roomId} cannot be retired: ${describeHolders(holders)} hold its seats in future windows; release or move them first`,
      );
    const retired = await trx
      .updateTable('room')
      .set({ retired_at: store.clock.now() })
      .where('id', '=', roomId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'EvaluationRoom',
      entityId: roomId,
      before: roomFields(room),
      after: roomFields(retired),
    });
    return retired;
  });
}

/** The room and its platform, locked FOR UPDATE: holds and blocks (FOR SHARE) wait, and see the change after. */
export async function lockRoomIn(
  trx: Transaction<VenuesDatabase>,
  roomId: string,
  mode: 'update' | 'share' = 'update',
): Promise<{ room: Room; platformId: string }> {
  const row = await trx
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .selectAll('room')
    .select('venue.platform_id')
    .where('room.id', '=', roomId)
    .modifyEnd(mode === 'update' ? sql`for update of room` : sql`for share of room`)
    .executeTakeFirst();
  if (!row) throw notFound('room', roomId);
  const { platform_id, ...room } = row;
  return { room, platformId: platform_id };
}

/** Seat rows 1..seats of a room (rows above stay when seats go down, unused: holds take seats up to room.seats). */
async function addSeatRowsIn(trx: Transaction<VenuesDatabase>, roomId: string, seats: number): Promise<void> {
  await sql`
    insert into seat (room_id, seat_no) select ${roomId}, n from generate_series(1, ${seats}::int) as n
    on conflict do nothing`.execute(trx);
}

/** A booking or block that holds seats of a room. */
export interface SeatHolder {
  kind: 'booking' | 'block';
  id: string;
  /** The booking's project, or the block's external reference. */
  label: string;
  starts_at: Date;
  ends_at: Date;
  seats: number;
}

/** Live bookings and blocks holding seats numbered above `above` in a window that has not ended. */
async function futureHoldersIn(
  { clock }: VenuesStore,
  trx: Transaction<VenuesDatabase>,
  roomId: string,
  above: number,
): Promise<SeatHolder[]> {
  const now = clock.now();
  const rows = await sql<SeatHolder>`
    select 'booking' as kind, b.id, b.project_id as label, b.starts_at, b.ends_at, b.seats
      from booking b
      where b.id in (select s.booking_id from booking_seat s
                     where s.room_id = ${roomId} and s.live and s.seat_no > ${above} and upper(s.during) > ${now})
    union all
    select 'block' as kind, k.id, k.external_ref as label, k.starts_at, k.ends_at, k.seats
      from room_block k
      where k.id in (select s.block_id from booking_seat s
                     where s.room_id = ${roomId} and s.live and s.seat_no > ${above} and upper(s.during) > ${now})
    order by starts_at, id`.execute(trx);
  return rows.rows;
}

/** "booking bk_1 (project p-1, 2 seats, from … to …), block blk_2 (ref LOCAL-7, …)", at most NAMED_HOLDERS of them. */
export function describeHolders(holders: readonly SeatHolder[]): string {
  const named = holders.slice(0, NAMED_HOLDERS).map((holder) => {
    const what = holder.kind === 'booking' ? `project ${holder.label}` : `externalRef ${holder.label}`;
    return `${holder.kind} ${holder.id} (${what}, ${holder.seats} seats, ${holder.starts_at.toISOString()} to ${holder.ends_at.toISOString()})`;
  });
  const more = holders.length > NAMED_HOLDERS ? ` and ${holders.length - NAMED_HOLDERS} more` : '';
  return `${named.join(', ')}${more}`;
}
