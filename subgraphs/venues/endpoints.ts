// Partner endpoints (MASTER-DATA.md): the address a platform receives its webhooks at, checked when it is saved and
// again at every delivery (lib/safe-delivery.ts resolves the name, checks every address it answers and pins the socket
// to them, so a name rebound to a refused address reaches nothing). Every delivery, the saga's decision webhooks and
// the ping of testPartnerEndpoint alike, is one signed attempt through `attemptDelivery`.
import { randomUUID } from 'node:crypto';
import type { HubConfig } from '../../lib/config';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import {
  deliverSignedWebhook,
  pingPayload,
  PING_EVENT,
  resolveEndpoint,
  type DeliveryOptions,
  type Resolver,
} from '../../lib/safe-delivery';
import { recordVenuesChange } from './change-log';
import type { Platform, VenuesStore, WebhookDelivery } from './types';
import { recordWebhookAttempt, webhookBody, type WebhookAttemptResult } from './webhooks';

/** How the domain delivers webhooks: the address rules, the timeout and the signing secret. */
export interface PartnerDeliverySettings extends DeliveryOptions {
  secret: string;
  maxAttempts: number;
  retryDelayMs: number;
}

/** Tests only: a resolver standing in for DNS, and the networks a test opens to reach its own receiver. */
export interface TestDeliveryOptions {
  resolver?: Resolver;
  testNetworks?: readonly string[];
}

export function deliverySettingsOf(config: HubConfig, test: TestDeliveryOptions = {}): PartnerDeliverySettings {
  return {
    production: config.HUB_ENV === 'production',
    allowedNetworks: config.WEBHOOK_ALLOWED_NETWORKS,
    timeoutMs: config.WEBHOOK_TIMEOUT,
    secret: config.WEBHOOK_SECRET,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    retryDelayMs: config.WEBHOOK_RETRY_DELAY,
    ...(test.resolver ? { resolver: test.resolver } : {}),
    ...(test.testNetworks ? { testNetworks: test.testNetworks } : {}),
  };
}

/** A service built without settings (a command-line tool) checks addresses as production does and sends nothing. */
export const UNCONFIGURED_DELIVERY: PartnerDeliverySettings = {
  production: true,
  allowedNetworks: [],
  timeoutMs: 5_000,
  secret: '',
  maxAttempts: 1,
  retryDelayMs: 0,
};

/** A platform's operators keep its endpoint; the province keeps every platform's. */
function requireEndpointKeeper(identity: Identity, platformId: string): void {
  if (identity.role === 'PROVINCIAL_ADMIN') return;
  if (identity.role === 'PLATFORM_OPERATOR' && identity.platform === platformId) return;
  throw forbidden(
    `only an operator of platform ${platformId} or a PROVINCIAL_ADMIN may keep its partner endpoint; your token is for ${identity.platform ?? 'no platform'}`,
  );
}

/** Sets (or, with null, clears) a platform's partner endpoint after checking it and every address it resolves to now. */
export async function setPartnerEndpoint(
  store: VenuesStore,
  settings: PartnerDeliverySettings,
  identity: Identity,
  platformId: string,
  url: string | null,
): Promise<Platform> {
  requireEndpointKeeper(identity, platformId);
  const address = url === null ? null : url.trim();
  if (address !== null) {
    if (address === '') throw badInput('url', 'is empty; give an https:// address, or null to clear the endpoint');
    const resolved = await resolveEndpoint(address, settings, settings.resolver);
    if (!resolved.ok) throw badInput('url', `${address} ${resolved.reason}`);
  }
  return store.db.transaction().execute(async (trx) => {
    const platform = await trx
      .selectFrom('platform')
      .selectAll()
      .where('id', '=', platformId)
      .forUpdate()
      .executeTakeFirst();
    if (!platform) throw notFound('platform', platformId);
    if (platform.webhook_url === address) return platform;
    const updated = await trx
      .updateTable('platform')
      .set({ webhook_url: address })
      .where('id', '=', platformId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordVenuesChange(trx, identity, {
      entityType: 'Platform',
      entityId: platformId,
      before: { webhookUrl: platform.webhook_url },
      after: { webhookUrl: address },
    });
    return updated;
  });
}

/** One signed attempt of a delivery, through the address rules: what the saga's webhooks and the ping both use. */
export async function attemptDelivery(
  settings: PartnerDeliverySettings,
  delivery: WebhookDelivery,
  attempt: number,
): Promise<WebhookAttemptResult> {
  if (!settings.secret)
    return { delivered: false, statusCode: null, error: 'webhook delivery is not configured in this process' };
  const result = await deliverSignedWebhook(
    { url: delivery.url, body: webhookBody(delivery), deliveryId: delivery.id, attempt },
    settings,
  );
  return { delivered: result.delivered, statusCode: result.statusCode, error: result.error };
}

/** Sends a signed ping to the platform's endpoint now, once, and returns its recorded delivery. */
export async function testPartnerEndpoint(
  store: VenuesStore,
  settings: PartnerDeliverySettings,
  identity: Identity,
  platformId: string,
): Promise<WebhookDelivery> {
  requireEndpointKeeper(identity, platformId);
  const platform = await store.db.selectFrom('platform').selectAll().where('id', '=', platformId).executeTakeFirst();
  if (!platform) throw notFound('platform', platformId);
  if (!platform.webhook_url)
    throw conflict(`platform ${platformId} has no partner endpoint; set one with setPartnerEndpoint first`);
  const id = `whp_${randomUUID().replace(/-/g, '')}`;
  const delivery = await store.db
    .insertInto('webhook_delivery')
    .values({
      id,
      platform_id: platformId,
      booking_id: null,
      event: PING_EVENT,
      url: platform.webhook_url,
      payload: JSON.stringify(pingPayload(id, platformId, store.clock.now())),
      last_status_code: null,
      last_error: null,
      delivered_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  const result = await attemptDelivery(settings, delivery, 1);
  // A ping is tried once: its answer is what the caller asked for.
  const recorded = await recordWebhookAttempt(store, id, 1, result, { maxAttempts: 1, retryDelayMs: 0 });
  return recorded ?? delivery;
}
