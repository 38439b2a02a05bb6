// Webhook deliveries to partner platforms: a signed JSON POST per delivery, retried with exponential backoff through
// the venues outbox, and a DEAD delivery (the dead letter) after the last attempt. Every attempt is recorded.
import { createHmac } from 'node:crypto';
import type { JobServices, QueueHandlers } from './contracts';

export const WEBHOOK_SIGNATURE_HEADER = 'x-hub-webhook-signature';
export const WEBHOOK_DELIVERY_HEADER = 'x-hub-webhook-delivery';

/** The signature header value of a body: `sha256=<hex HMAC-SHA256(secret, body)>`; receivers recompute and compare. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function createNotificationHandlers(services: JobServices): Pick<QueueHandlers<'notifications'>, 'webhook'> {
  return {
    webhook: (job) => deliverWebhook(services, job.data.deliveryId, job.data.attempt),
  };
}

/** Makes attempt `attempt` of a delivery, once: a replayed job whose attempt is already recorded sends nothing. */
async function deliverWebhook(services: JobServices, deliveryId: string, attempt: number): Promise<string> {
  const { venues, config } = services;
  const delivery = await venues.webhookDelivery(deliveryId);
  if (!delivery || delivery.status !== 'PENDING' || delivery.attempts >= attempt) return delivery?.status ?? 'UNKNOWN';
  const body = venues.webhookBody(delivery);
  let result: { delivered: boolean; statusCode: number | null; error: string | null };
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(config.WEBHOOK_SECRET, body),
        [WEBHOOK_DELIVERY_HEADER]: delivery.id,
        'x-hub-webhook-attempt': String(attempt),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(config.WEBHOOK_TIMEOUT),
    });
    await response.arrayBuffer().catch(() => undefined);
    const delivered = response.status >= 200 && response.status < 300;
    result = {
      delivered,
      statusCode: response.status,
      error: delivered ? null : `the receiver answered HTTP ${response.status}`,
    };
  } catch (error) {
    result = { delivered: false, statusCode: null, error: error instanceof Error ? error.message : String(error) };
  }
  const recorded = await venues.recordWebhookAttempt(deliveryId, attempt, result, {
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    retryDelayMs: config.WEBHOOK_RETRY_DELAY,
  });
  if (recorded?.status === 'DEAD')
    services.logger.warn(
      { deliveryId, attempts: attempt, url: delivery.url },
      'webhook delivery dead after its last attempt',
    );
  return recorded?.status ?? 'ALREADY_RECORDED';
}
