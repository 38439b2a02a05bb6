// Sending a signed webhook to a partner endpoint without being turned against the hub's own network. The URL is checked
// (lib/endpoint-address.ts), its name resolved once, every resolved address checked, and the socket pinned to the
// addresses that passed: the request's `lookup` answers from them, so no second resolution (DNS rebinding) can move the
// connection to a refused address. Redirects are never followed. The result is what a webhook_delivery row stores.
import { createHmac } from 'node:crypto';
import { promises as dns, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { rootCertificates } from 'node:tls';
import { addressRefusal, checkEndpointUrl, type AddressPolicy } from './endpoint-address';

export const WEBHOOK_SIGNATURE_HEADER = 'x-hub-webhook-signature';
export const WEBHOOK_DELIVERY_HEADER = 'x-hub-webhook-delivery';
export const WEBHOOK_ATTEMPT_HEADER = 'x-hub-webhook-attempt';
/** The event of the ping `testPartnerEndpoint` sends. */
export const PING_EVENT = 'ping';

/** The signature header value of a body: `sha256=<hex HMAC-SHA256(secret, body)>`; receivers recompute and compare. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Every address a name resolves to (dns.lookup with all: true); tests pass their own. */
export type Resolver = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

export type ResolvedEndpoint =
  { ok: true; url: URL; host: string; addresses: LookupAddress[] } | { ok: false; reason: string };

/**
 * Checks a URL and every address its host resolves to now: refused when any one is refused (a name that answers one
 * good and one refused address is refused). An IP literal is its own single address. For setPartnerEndpoint and
 * for each delivery.
 */
export async function resolveEndpoint(
  text: string,
  policy: AddressPolicy,
  resolver: Resolver = systemResolver,
): Promise<ResolvedEndpoint> {
  const check = checkEndpointUrl(text, policy);
  if (!check.ok) return check;
  if (check.ip)
    return { ok: true, url: check.url, host: check.host, addresses: [{ address: check.ip, family: isIP(check.ip) }] };
  let answers: LookupAddress[];
  try {
    answers = await resolver(check.host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      reason: `names ${check.host}, which does not resolve${code ? ` (${code})` : ''}; check the host name`,
    };
  }
  if (answers.length === 0)
    return { ok: false, reason: `names ${check.host}, which resolves to no address; check the host name` };
  for (const answer of answers) {
    const refusal = addressRefusal(answer.address, policy);
    if (refusal) return { ok: false, reason: `names ${check.host}, which resolves to a refused address: ${refusal}` };
  }
  return {
    ok: true,
    url: check.url,
    host: check.host,
    addresses: answers.map(({ address, family }) => ({ address, family })),
  };
}

export interface DeliveryOptions extends AddressPolicy {
  /** The whole attempt, resolution included (WEBHOOK_TIMEOUT). */
  timeoutMs: number;
  resolver?: Resolver;
  /** PEM certificates trusted beside the system's roots: a closed network's own CA, or a test partner's. */
  extraCertificates?: readonly string[];
}

/** One attempt's outcome: `delivered`, `statusCode` and `error` are webhook_delivery's columns. */
export interface DeliveryResult {
  delivered: boolean;
  statusCode: number | null;
  /** Why it was not delivered: a refusal (`refused: …`), a network error, a timeout or the receiver's status. */
  error: string | null;
  /** True when the address rules stopped it before any connection. */
  refused: boolean;
  /** The address the socket connected to, when it connected. */
  address: string | null;
  durationMs: number;
}

/** The most of a receiver's answer read before the socket is closed: its body is never used. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs `body` to `url` with `headers`, through the address rules: a refused URL or address sends nothing. Failures are
 * results; it throws only for a programming error (testNetworks in production).
 */
export async function safePost(
  url: string,
  body: string,
  headers: Record<string, string>,
  options: DeliveryOptions,
): Promise<DeliveryResult> {
  const started = performance.now();
  const finish = (result: Omit<DeliveryResult, 'durationMs'>): DeliveryResult => ({
    ...result,
    durationMs: Math.round(performance.now() - started),
  });
  const signal = AbortSignal.timeout(options.timeoutMs);
  const timedOut = `no answer within ${options.timeoutMs} ms`;
  const resolved = await Promise.race([
    resolveEndpoint(url, options, options.resolver),
    new Promise<'timeout'>((resolve) => signal.addEventListener('abort', () => resolve('timeout'), { once: true })),
  ]);
  if (resolved === 'timeout')
    return finish({
      delivered: false,
      statusCode: null,
      error: `${timedOut} (resolving the host)`,
      refused: false,
      address: null,
    });
  if (!resolved.ok)
    return finish({
      delivered: false,
      statusCode: null,
      error: `refused: ${url} ${resolved.reason}`,
      refused: true,
      address: null,
    });
  try {
    const { statusCode, address } = await post(resolved, body, headers, signal, options.extraCertificates);
    const delivered = statusCode >= 200 && statusCode < 300;
    const redirect = statusCode >= 300 && statusCode < 400 ? ' (redirects are not followed)' : '';
    return finish({
      delivered,
      statusCode,
      error: delivered ? null : `the receiver answered HTTP ${statusCode}${redirect}`,
      refused: false,
      address,
    });
  } catch (error) {
    const message = signal.aborted ? timedOut : error instanceof Error ? error.message : String(error);
    return finish({ delivered: false, statusCode: null, error: message, refused: false, address: null });
  }
}

/** The request itself, its socket able to reach only `endpoint.addresses`. */
function post(
  endpoint: Extract<ResolvedEndpoint, { ok: true }>,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
  extraCertificates: readonly string[] = [],
): Promise<{ statusCode: number; address: string }> {
  const checked = endpoint.addresses;
  const reachable = new BlockList();
  for (const { address, family } of checked) reachable.addAddress(address, family === 6 ? 'ipv6' : 'ipv4');
  // The connection asks this instead of DNS: only the addresses checked above, whatever the name resolves to now.
  const lookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, checked);
    else callback(null, checked[0].address, checked[0].family);
  };
  const { url } = endpoint;
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    let address = '';
    const request = transport.request(
      {
        method: 'POST',
        host: endpoint.host,
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        headers: {
          ...headers,
          host: url.host,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
        },
        lookup,
        agent: false,
        signal,
        // The certificate is verified against the name (SNI and host check use `host`), while the socket is pinned.
        ...(extraCertificates.length ? { ca: [...rootCertificates, ...extraCertificates] } : {}),
      },
      (response) => {
        let read = 0;
        const settle = () => resolve({ statusCode: response.statusCode ?? 0, address });
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_RESPONSE_BYTES) {
            response.destroy();
            settle();
          }
        });
        response.on('end', settle);
        response.on('error', reject);
      },
    );
    request.on('socket', (socket) => {
      socket.once('connect', () => {
        address = socket.remoteAddress ?? '';
        // Belt and braces: a socket that reached anything but a checked address is closed as soon as it connects.
        if (!address || !reachable.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4'))
          request.destroy(new Error(`refused: connected to ${address}, which was not checked`));
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

export interface SignedWebhook {
  url: string;
  /** The exact body (canonical JSON, VenuesService.webhookBody): the signature covers these bytes. */
  body: string;
  deliveryId: string;
  attempt: number;
}

/** The headers a webhook carries today: its signature, its delivery id and its attempt number. */
export function webhookHeaders(secret: string, webhook: Omit<SignedWebhook, 'url'>): Record<string, string> {
  return {
    [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(secret, webhook.body),
    [WEBHOOK_DELIVERY_HEADER]: webhook.deliveryId,
    [WEBHOOK_ATTEMPT_HEADER]: String(webhook.attempt),
  };
}

/** One signed attempt of a webhook (a decision webhook or a ping), through the address rules. */
export function deliverSignedWebhook(
  webhook: SignedWebhook,
  options: DeliveryOptions & { secret: string },
): Promise<DeliveryResult> {
  return safePost(webhook.url, webhook.body, webhookHeaders(options.secret, webhook), options);
}

/** The payload of the ping `testPartnerEndpoint` sends: ids and a time only. */
export function pingPayload(
  deliveryId: string,
  platformId: string,
  sentAt: Date,
): { event: typeof PING_EVENT; deliveryId: string; platformId: string; sentAt: string } {
  return { event: PING_EVENT, deliveryId, platformId, sentAt: sentAt.toISOString() };
}
