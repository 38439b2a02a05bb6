// Webhooks to partner platforms: a delivery row per booking that waits for a partner's decision, its attempts and
// their retries through the outbox, and the list a platform reads of its own deliveries.
import { sql, type Transaction } from 'kysely';
import { canonicalJson } from '../../lib/canonical-json';
import { writeOutbox } from '../../lib/outbox';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import type { Booking, VenuesDatabase, VenuesStore, WebhookDelivery } from './types';

export const WEBHOOK_JOB = { queue: 'notifications', name: 'webhook' } as const;
export const DECISION_NEEDED_EVENT = 'booking.decision-needed';

export interface WebhookAttemptResult {
  delivered: boolean;
  statusCode: number | null;
  error: string | null;
}

/** A delivery row and its first job, in the hold's transaction, for a partner platform with a webhook URL. */
export async function queueDecisionWebhookIn(
  trx: Transaction<VenuesDatabase>,
  booking: Booking,
  platformId: string,
  url: string,
): Promise<void> {
  const id = `whd_${booking.id}`;
  // Seat counts, windows and ids only: a partner learns nothing about who will sit there.
  const payload = {
    event: DECISION_NEEDED_EVENT,
    deliveryId: id,
    booking: {
      id: booking.id,
      roomId: booking.room_id,
      platformId,
      projectId: booking.project_id,
      hostPlatformId: booking.host_platform_id,
      role: booking.role,
      seats: booking.seats,
      startsAt: booking.starts_at.toISOString(),
      endsAt: booking.ends_at.toISOString(),
      holdExpiresAt: booking.hold_expires_at?.toISOString() ?? null,
    },
    respondWith: ['confirmBooking(bookingId)', 'rejectBooking(bookingId, reason)'],
  };
  await trx
    .insertInto('webhook_delivery')
    .values({
      id,
      platform_id: platformId,
      booking_id: booking.id,
      event: DECISION_NEEDED_EVENT,
      url,
      payload: JSON.stringify(payload),
      last_status_code: null,
      last_error: null,
      delivered_at: null,
    })
    .onConflict((oc) => oc.columns(['booking_id', 'event']).doNothing())
    .execute();
  await writeOutbox<VenuesDatabase>(trx, { ...WEBHOOK_JOB, data: { deliveryId: id, attempt: 1 } });
}

export function webhookDelivery({ db }: VenuesStore, id: string): Promise<WebhookDelivery | undefined> {
  return db.selectFrom('webhook_delivery').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The exact body a delivery posts: canonical JSON, so its signature is reproducible. */
export function webhookBody(delivery: WebhookDelivery): string {
  return canonicalJson(delivery.payload as Parameters<typeof canonicalJson>[0]);
}

/**
 * Records the outcome of attempt `attempt` (once: a replayed attempt changes nothing). A failure before the last
 * attempt queues the next one after `retryDelayMs`; the last failure leaves the delivery DEAD, the dead letter.
 */
export function recordWebhookAttempt(
  { db, clock }: VenuesStore,
  id: string,
  attempt: number,
  result: WebhookAttemptResult,
  policy: { maxAttempts: number; retryDelayMs: number },
): Promise<WebhookDelivery | undefined> {
  return db.transaction().execute(async (trx) => {
    const now = clock.now();
    const dead = !result.delivered && attempt >= policy.maxAttempts;
    const updated = await trx
      .updateTable('webhook_delivery')
      .set({
        attempts: attempt,
        status: result.delivered ? 'DELIVERED' : dead ? 'DEAD' : 'PENDING',
        last_status_code: result.statusCode,
        last_error: result.error?.slice(0, 500) ?? null,
        updated_at: now,
        delivered_at: result.delivered ? now : null,
      })
      .where('id', '=', id)
      .where('status', '=', 'PENDING')
      .where('attempts', '=', attempt - 1)
      .returningAll()
      .executeTakeFirst();
    if (updated && !result.delivered && !dead) {
      await writeOutbox<VenuesDatabase>(trx, {
        ...WEBHOOK_JOB,
        data: { deliveryId: id, attempt: attempt + 1 },
        delayMs: policy.retryDelayMs * 2 ** (attempt - 1),
      });
    }
    return updated;
  });
}

/** A platform's webhook deliveries, newest first. */
export async function webhookDeliveries(
  { db }: VenuesStore,
  platformId: string,
  args: { first?: number | null; after?: string | null },
): Promise<Connection<WebhookDelivery>> {
  const limit = pageSize(args.first);
  const cursor = decodeCursor(args.after, 2);
  const total = await db
    .selectFrom('webhook_delivery')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('platform_id', '=', platformId)
    .executeTakeFirstOrThrow();
  let query = db.selectFrom('webhook_delivery').selectAll().where('platform_id', '=', platformId);
  if (cursor) {
    const [createdAt, id] = cursor as [string, string];
    query = query.where(sql<boolean>`(created_at, id) < (${new Date(createdAt)}, ${id})`);
  }
  const rows = await query
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  return toConnection(rows, limit, Number(total.count), (row) => [row.created_at.toISOString(), row.id]);
}
