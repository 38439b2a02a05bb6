// A partner's decision on a held booking: the room's platform confirms or rejects it, and the outbox tells the saga
// to settle the arrangement. Which roles may decide is the authorization matrix's row (lib/authorization.ts,
// Mutation.confirmBooking / Mutation.rejectBooking); the scope it names, ROOM_PLATFORM, is checked here.
import { actorOf } from '../../lib/authz';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { writeOutbox } from '../../lib/outbox';
import { noteBookingsWritten } from './booking-notes';
import { SETTLE_JOB } from './booking-saga';
import { bookingsByIds } from './bookings';
import { roomsWithPlatform } from './directory';
import type { Booking, VenuesDatabase, VenuesStore } from './types';

type Decision = 'CONFIRMED' | 'REJECTED';

/** The room's platform confirms a held booking (PLATFORM_OPERATOR or PARTNER_SYSTEM of that platform). */
export async function confirmBooking(store: VenuesStore, identity: Identity, bookingId: string): Promise<Booking> {
  await requireRoomPlatform(store, identity, bookingId, 'confirm');
  return decideBooking(store, bookingId, 'CONFIRMED', actorOf(identity), null);
}

/** The room's platform rejects a held booking, saying why; the whole arrangement then fails. */
export async function rejectBooking(
  store: VenuesStore,
  identity: Identity,
  bookingId: string,
  reason: string,
): Promise<Booking> {
  const trimmed = reason.trim();
  if (!trimmed) throw badInput('reason', 'say why the booking is rejected');
  if (trimmed.length > 500) throw badInput('reason', 'must be at most 500 characters');
  await requireRoomPlatform(store, identity, bookingId, 'reject');
  return decideBooking(store, bookingId, 'REJECTED', actorOf(identity), trimmed);
}

/** The ROOM_PLATFORM scope of the matrix: only the platform the booked room belongs to decides on its booking. */
async function requireRoomPlatform(
  store: VenuesStore,
  identity: Identity,
  bookingId: string,
  verb: string,
): Promise<void> {
  const [booking] = await bookingsByIds(store, [bookingId]);
  if (!booking) throw notFound('booking', bookingId);
  const [room] = await roomsWithPlatform(store, [booking.room_id]);
  if (room?.platform_id !== identity.platform) {
    throw forbidden(
      `booking ${bookingId} is of a room of platform ${room?.platform_id}; only that platform may ${verb} it, your token is for ${identity.platform}`,
    );
  }
}

/**
 * HELD → CONFIRMED | REJECTED. Deciding the same way twice is a no-op; any other state, or a hold past its expiry, is
 * CONFLICT. An outbox message in the same transaction makes the saga settle the arrangement.
 */
function decideBooking(
  { db, clock }: VenuesStore,
  bookingId: string,
  decision: Decision,
  actor: string,
  reason: string | null,
): Promise<Booking> {
  return db.transaction().execute(async (trx) => {
    const [unlocked] = await trx.selectFrom('booking').select('arrangement_id').where('id', '=', bookingId).execute();
    if (!unlocked) throw notFound('booking', bookingId);
    await trx.selectFrom('arrangement').select('id').where('id', '=', unlocked.arrangement_id).forShare().execute();
    const booking = await trx
      .selectFrom('booking')
      .selectAll()
      .where('id', '=', bookingId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (booking.status === decision) return booking;
    const verb = decision === 'CONFIRMED' ? 'confirmed' : 'rejected';
    if (booking.status !== 'HELD')
      throw conflict(`booking ${bookingId} is ${booking.status}; only a HELD booking can be ${verb}`);
    const now = clock.now();
    if (booking.hold_expires_at && booking.hold_expires_at.getTime() <= now.getTime()) {
      throw conflict(
        `the hold of booking ${bookingId} expired at ${booking.hold_expires_at.toISOString()}; the host must arrange venues again`,
      );
    }
    const updated = await trx
      .updateTable('booking')
      .set({ status: decision, reason, updated_at: now })
      .where('id', '=', bookingId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await noteBookingsWritten(trx, [updated]);
    if (decision === 'REJECTED')
      await trx.updateTable('booking_seat').set({ live: false }).where('booking_id', '=', bookingId).execute();
    await writeOutbox<VenuesDatabase>(trx, {
      ...SETTLE_JOB,
      data: { arrangementId: booking.arrangement_id, bookingId, decision, actor, reason },
    });
    return updated;
  });
}
