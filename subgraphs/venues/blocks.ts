// Room blocks: seats a platform takes in its own room (a local evaluation its own software records), through the same
// seat rows and exclusion constraint (booking_seat_no_overlap) as bookings, so a block and bookings together never
// exceed the room. putRoomBlock is idempotent on (platform, externalRef): sent again, it moves or resizes that block.
import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { badInput, conflict, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { actorOf, recordMasterDataChange } from '../../lib/master-data-audit';
import { describeHolders, lockRoomIn, requireKeeper, type SeatHolder } from './rooms';
import { rangeOf, takesSeatDuring } from './seats';
import type { RoomBlock, VenuesDatabase, VenuesStore, Window } from './types';

/** A block that loses a seat race (23P01), or a first put that races another with its ref, tries again this often. */
export const BLOCK_ATTEMPTS = 5;
const MAX_REF_LENGTH = 200;
const MAX_REASON_LENGTH = 1000;
/** The longest window a block may cover. */
export const MAX_BLOCK_DAYS = 366;

export interface PutRoomBlock {
  roomId: string;
  externalRef: string;
  from: Date;
  to: Date;
  seats?: number | null;
  reason: string;
}

function blockFields(block: RoomBlock) {
  return {
    roomId: block.room_id,
    seats: block.seats,
    startsAt: block.starts_at.toISOString(),
    endsAt: block.ends_at.toISOString(),
    reason: block.reason,
    removed: block.removed_at !== null,
  };
}

function checkPut(input: PutRoomBlock): { externalRef: string; reason: string } {
  const externalRef = input.externalRef.trim();
  if (externalRef.length === 0 || externalRef.length > MAX_REF_LENGTH)
    throw badInput('externalRef', `give your system's reference of the block, 1 to ${MAX_REF_LENGTH} characters`);
  const reason = input.reason.trim();
  if (reason.length === 0 || reason.length > MAX_REASON_LENGTH)
    throw badInput('reason', `say why the seats are taken, 1 to ${MAX_REASON_LENGTH} characters`);
  if (input.to.getTime() <= input.from.getTime())
    throw badInput('to', `the block ends (${input.to.toISOString()}) before it starts; give a later 'to'`);
  if (input.to.getTime() - input.from.getTime() > MAX_BLOCK_DAYS * 86_400_000)
    throw badInput('to', `a block covers at most ${MAX_BLOCK_DAYS} days; split longer ones`);
  if (input.seats != null && (!Number.isInteger(input.seats) || input.seats < 1))
    throw badInput(
      'seats',
      `is ${input.seats}; give a whole number of seats from 1, or omit it to take the whole room`,
    );
  return { externalRef, reason };
}

/** Puts a block (creates it, or moves and resizes the one with this externalRef), retrying lost seat races. */
export async function putRoomBlock(store: VenuesStore, identity: Identity, input: PutRoomBlock): Promise<RoomBlock> {
  const checked = checkPut(input);
  for (let attempt = 1; ; attempt++) {
    try {
      return await store.db.transaction().execute((trx) => putRoomBlockIn(store, trx, identity, input, checked));
    } catch (error) {
      const state = sqlState(error);
      const retried: string[] = [DB_ERRORS.exclusionViolation, DB_ERRORS.uniqueViolation, DB_ERRORS.deadlockDetected];
      if (!state || !retried.includes(state)) throw error;
      if (attempt >= BLOCK_ATTEMPTS)
        throw conflict(
          `the seats of room ${input.roomId} were taken by concurrent bookings or blocks ${BLOCK_ATTEMPTS} times in a row; send the block again`,
        );
    }
  }
}

async function putRoomBlockIn(
  store: VenuesStore,
  trx: Transaction<VenuesDatabase>,
  identity: Identity,
  input: PutRoomBlock,
  { externalRef, reason }: { externalRef: string; reason: string },
): Promise<RoomBlock> {
  const { room, platformId } = await lockRoomIn(trx, input.roomId, 'share');
  requireKeeper(identity, platformId, `block seats of room ${room.id}`, true);
  if (room.retired_at) throw conflict(`room ${room.id} was retired; block seats of a room in use`);
  const seats = input.seats ?? room.seats;
  if (seats > room.seats)
    throw badInput('seats', `room ${room.id} has ${room.seats} seats; block at most ${room.seats}, or omit seats`);
  const existing = await trx
    .selectFrom('room_block')
    .selectAll()
    .where('platform_id', '=', platformId)
    .where('external_ref', '=', externalRef)
    .forUpdate()
    .executeTakeFirst();
  const wanted = { room_id: room.id, seats, starts_at: input.from, ends_at: input.to, reason };
  if (
    existing &&
    existing.removed_at === null &&
    existing.room_id === wanted.room_id &&
    existing.seats === wanted.seats &&
    existing.starts_at.getTime() === wanted.starts_at.getTime() &&
    existing.ends_at.getTime() === wanted.ends_at.getTime() &&
    existing.reason === wanted.reason
  )
    return existing;
  if (existing && existing.room_id !== room.id) await lockRoomIn(trx, existing.room_id, 'share');
  // The block's own earlier seats are free for its new window.
  if (existing) await trx.deleteFrom('booking_seat').where('block_id', '=', existing.id).execute();
  const block = existing
    ? await trx
        .updateTable('room_block')
        .set({ ...wanted, removed_at: null, updated_at: store.clock.now() })
        .where('id', '=', existing.id)
        .returningAll()
        .executeTakeFirstOrThrow()
    : await trx
        .insertInto('room_block')
        .values({ id: `blk_${randomUUID()}`, platform_id: platformId, external_ref: externalRef, ...wanted })
        .returningAll()
        .executeTakeFirstOrThrow();

  const window: Window = { from: input.from, to: input.to };
  const free = await freeSeatNumbersIn(trx, room.id, room.seats, window);
  if (free.length < seats) {
    const holders = await holdersIn(trx, room.id, window);
    throw conflict(
      `room ${room.id} has ${free.length} of the ${seats} seats asked free from ${window.from.toISOString()} to ${window.to.toISOString()}: ${describeHolders(holders)} hold the others; block fewer seats or another window`,
    );
  }
  await trx
    .insertInto('booking_seat')
    .values(
      free
        .slice(0, seats)
        .map((seat_no) => ({ block_id: block.id, room_id: room.id, seat_no, during: rangeOf(window) })),
    )
    .execute();
  await recordMasterDataChange(trx, {
    actor: actorOf(identity),
    entityType: 'RoomBlock',
    entityId: block.id,
    before: existing ? blockFields(existing) : null,
    after: { externalRef, ...blockFields(block) },
  });
  return block;
}

/** Removes a platform's block by its reference: its seats are free again. Removing it twice changes nothing. */
export async function removeRoomBlock(
  store: VenuesStore,
  identity: Identity,
  platformId: string,
  externalRef: string,
): Promise<RoomBlock> {
  requireKeeper(identity, platformId, 'remove its room blocks', true);
  return store.db.transaction().execute(async (trx) => {
    const block = await trx
      .selectFrom('room_block')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('external_ref', '=', externalRef)
      .forUpdate()
      .executeTakeFirst();
    if (!block) throw notFound(`room block of platform ${platformId} with externalRef`, externalRef);
    if (block.removed_at) return block;
    const removed = await trx
      .updateTable('room_block')
      .set({ removed_at: store.clock.now(), updated_at: store.clock.now() })
      .where('id', '=', block.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx.updateTable('booking_seat').set({ live: false }).where('block_id', '=', block.id).execute();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'RoomBlock',
      entityId: block.id,
      before: blockFields(block),
      after: blockFields(removed),
    });
    return removed;
  });
}

/** Seat numbers of a room (up to its seats) that no live booking or block holds at any moment of the window. */
async function freeSeatNumbersIn(
  trx: Transaction<VenuesDatabase>,
  roomId: string,
  seats: number,
  window: Window,
): Promise<number[]> {
  const rows = await trx
    .selectFrom('seat')
    .select('seat.seat_no')
    .where('seat.room_id', '=', roomId)
    .where('seat.seat_no', '<=', seats)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('booking_seat')
            .select('booking_seat.seat_no')
            .whereRef('booking_seat.room_id', '=', 'seat.room_id')
            .whereRef('booking_seat.seat_no', '=', 'seat.seat_no')
            .where(takesSeatDuring(rangeOf(window))),
        ),
      ),
    )
    .orderBy('seat.seat_no')
    .execute();
  return rows.map((row) => row.seat_no);
}

/** The live bookings and blocks holding seats of a room over a window, to name them in a CONFLICT. */
async function holdersIn(trx: Transaction<VenuesDatabase>, roomId: string, window: Window): Promise<SeatHolder[]> {
  const range = rangeOf(window);
  const rows = await sql<SeatHolder>`
    select 'booking' as kind, b.id, b.project_id as label, b.starts_at, b.ends_at, b.seats from booking b
      where b.id in (select booking_id from booking_seat where room_id = ${roomId} and live and during && ${range})
    union all
    select 'block' as kind, k.id, k.external_ref as label, k.starts_at, k.ends_at, k.seats from room_block k
      where k.id in (select block_id from booking_seat where room_id = ${roomId} and live and during && ${range})
    order by starts_at, id`.execute(trx);
  return rows.rows;
}

export function blocksByIds({ db }: VenuesStore, ids: readonly string[]): Promise<RoomBlock[]> {
  return db
    .selectFrom('room_block')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

/** Live blocks of these rooms overlapping [from, to). */
export function blocksOfRooms({ db }: VenuesStore, roomIds: readonly string[], window: Window): Promise<RoomBlock[]> {
  return db
    .selectFrom('room_block')
    .selectAll()
    .where('room_id', 'in', [...roomIds])
    .where('removed_at', 'is', null)
    .where(sql<boolean>`tstzrange(starts_at, ends_at) && ${rangeOf(window)}`)
    .orderBy('starts_at')
    .orderBy('id')
    .execute();
}

/** Live blocks overlapping [from, to), optionally of one platform's rooms (the schedule's blocks, for the board). */
export function scheduleBlocks(
  { db }: VenuesStore,
  window: Window,
  filter: { platformId?: string; visibleTo?: string } = {},
): Promise<RoomBlock[]> {
  let query = db
    .selectFrom('room_block')
    .selectAll()
    .where('removed_at', 'is', null)
    .where(sql<boolean>`tstzrange(starts_at, ends_at) && ${rangeOf(window)}`);
  if (filter.platformId) query = query.where('platform_id', '=', filter.platformId);
  if (filter.visibleTo) query = query.where('platform_id', '=', filter.visibleTo);
  return query.orderBy('starts_at').orderBy('id').execute();
}
