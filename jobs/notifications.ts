// Webhook deliveries to partner platforms: a signed JSON POST per delivery, retried with exponential backoff through
// the venues outbox, and a DEAD delivery (the dead letter) after the last attempt. Every attempt is recorded. The POST
// itself goes through lib/safe-delivery.ts (VenuesService.deliverWebhook): the endpoint's name is resolved and every
// address it answers checked at each attempt, so a name rebound to a refused address reaches nothing.
import type { JobServices, QueueHandlers } from './contracts';

export { WEBHOOK_DELIVERY_HEADER, WEBHOOK_SIGNATURE_HEADER, webhookSignature } from '../lib/safe-delivery';

export function createNotificationHandlers(services: JobServices): Pick<QueueHandlers<'notifications'>, 'webhook'> {
  return {
    webhook: (job) => deliverWebhook(services, job.data.deliveryId, job.data.attempt),
  };
}

/** Makes attempt `attempt` of a delivery, once: a replayed job whose attempt is already recorded sends nothing. */
async function deliverWebhook(services: JobServices, deliveryId: string, attempt: number): Promise<string> {
  const { venues } = services;
  const before = await venues.webhookDelivery(deliveryId);
  if (!before || before.status !== 'PENDING' || before.attempts >= attempt) return before?.status ?? 'UNKNOWN';
  const recorded = await venues.deliverWebhook(deliveryId, attempt);
  if (recorded?.status === 'DEAD')
    services.logger.warn(
      { deliveryId, attempts: attempt, url: recorded.url, error: recorded.last_error },
      'webhook delivery dead after its last attempt',
    );
  return recorded && recorded.attempts === attempt ? recorded.status : 'ALREADY_RECORDED';
}
