// Delivery through the address rules: a name is resolved once, every address it resolves to is checked, and the socket
// goes only to a checked address. Real HTTP servers on loopback stand in for partners; a resolver injected by the test
// stands in for DNS, and `testNetworks` (an option only a test passes, refused in production) opens the one loopback
// address a test's partner listens on.
import { readFileSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import {
  webhookSignature as jobsWebhookSignature,
  WEBHOOK_SIGNATURE_HEADER as JOBS_SIGNATURE_HEADER,
} from '../jobs/notifications';
import {
  deliverSignedWebhook,
  pingPayload,
  resolveEndpoint,
  safePost,
  WEBHOOK_DELIVERY_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  webhookSignature,
  type DeliveryOptions,
  type Resolver,
} from '../lib/safe-delivery';
import { canonicalJson } from '../lib/canonical-json';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  port: number;
  received: Received[];
  server: Server;
}

// A self-signed certificate for partner.test (valid to 2126), made for this suite with openssl; trusted only by the tests.
const TLS = {
  key: readFileSync(join(__dirname, 'support/tls/partner-test.key')),
  cert: readFileSync(join(__dirname, 'support/tls/partner-test.crt')),
};

/**
 * A partner on `host`:`port` (0: any free port), over http or https (as partner.test), answering with `answer` and
 * recording what arrived.
 */
async function receiver(
  host: string,
  port = 0,
  answer: (response: ServerResponse) => void = (response) => response.writeHead(204).end(),
  tls = false,
): Promise<Receiver> {
  const received: Received[] = [];
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        path: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      answer(response);
    });
  };
  const server: Server = tls ? createTlsServer(TLS, handle) : createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return { port: (server.address() as AddressInfo).port, received, server };
}

function close(partner: Receiver): Promise<void> {
  partner.server.closeAllConnections();
  return new Promise((resolve) => partner.server.close(() => resolve()));
}

/** A resolver that answers `answers[i]` to its i-th question (the last one ever after), and counts the questions. */
function scriptedResolver(...answers: LookupAddress[][]): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (hostname: string) => {
    asked.push(hostname);
    return answers[Math.min(asked.length - 1, answers.length - 1)];
  };
  return Object.assign(resolver, { asked });
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const SECRET = 'a-test-webhook-secret-of-enough-length-0123456789';

describe('safe delivery', () => {
  // The good partner listens on 127.0.0.2, which the test opens; on the same port, 127.0.0.1 plays an internal service
  // the hub must never reach: a second resolution pointing there would deliver to it.
  let good: Receiver;
  let internal: Receiver;
  const options = (resolver: Resolver, more: Partial<DeliveryOptions> = {}): DeliveryOptions => ({
    production: false,
    allowedNetworks: [],
    testNetworks: ['127.0.0.2/32'],
    timeoutMs: 5_000,
    resolver,
    ...more,
  });

  beforeAll(async () => {
    good = await receiver('127.0.0.2');
    internal = await receiver('127.0.0.1', good.port);
  });
  afterAll(async () => {
    await close(good);
    await close(internal);
  });
  afterEach(() => {
    good.received.length = 0;
    internal.received.length = 0;
  });

  it('delivers a signed webhook to a checked address, signed as the decision webhooks are', async () => {
    const body = canonicalJson(pingPayload('whd_ping_1', '410100', new Date('2027-03-01T08:00:00Z')));
    const resolver = scriptedResolver([v4('127.0.0.2')]);
    const result = await deliverSignedWebhook(
      { url: `http://partner.test:${good.port}/hooks?v=1`, body, deliveryId: 'whd_ping_1', attempt: 1 },
      { ...options(resolver), secret: SECRET },
    );

    expect(result).toMatchObject({
      delivered: true,
      statusCode: 204,
      error: null,
      refused: false,
      address: '127.0.0.2',
    });
    expect(typeof result.durationMs).toBe('number');
    expect(good.received).toHaveLength(1);
    const [hook] = good.received;
    expect(hook.path).toBe('/hooks?v=1');
    expect(hook.body).toBe(body);
    expect(JSON.parse(hook.body)).toEqual({
      event: 'ping',
      deliveryId: 'whd_ping_1',
      platformId: '410100',
      sentAt: '2027-03-01T08:00:00.000Z',
    });
    expect(hook.headers.host).toBe(`partner.test:${good.port}`);
    expect(hook.headers['content-type']).toBe('application/json');
    expect(hook.headers[WEBHOOK_DELIVERY_HEADER]).toBe('whd_ping_1');
    expect(hook.headers['x-hub-webhook-attempt']).toBe('1');
    // The signature is today's: the same header and value as jobs/notifications.ts computes.
    expect(WEBHOOK_SIGNATURE_HEADER).toBe(JOBS_SIGNATURE_HEADER);
    expect(hook.headers[WEBHOOK_SIGNATURE_HEADER]).toBe(jobsWebhookSignature(SECRET, body));
    expect(webhookSignature(SECRET, body)).toBe(jobsWebhookSignature(SECRET, body));
    expect(internal.received).toHaveLength(0);
  });

  it('never reaches a refused address when the name rebinds: the socket goes to the address that was checked', async () => {
    // Good on the first question, the internal service on every later one: a connection that resolved again would land there.
    const rebinding = scriptedResolver([v4('127.0.0.2')], [v4('127.0.0.1')]);
    const result = await safePost(`http://partner.test:${good.port}/hooks`, '{"event":"ping"}', {}, options(rebinding));

    expect(result).toMatchObject({ delivered: true, statusCode: 204, address: '127.0.0.2' });
    expect(rebinding.asked).toEqual(['partner.test']);
    expect(good.received).toHaveLength(1);
    expect(internal.received).toHaveLength(0);

    // The next delivery asks again, gets the refused address, and sends nothing anywhere.
    const next = await safePost(`http://partner.test:${good.port}/hooks`, '{"event":"ping"}', {}, options(rebinding));
    expect(next).toMatchObject({ delivered: false, statusCode: null, refused: true, address: null });
    expect(next.error).toMatch(
      /^refused: http:\/\/partner\.test:\d+\/hooks names partner\.test, which resolves to a refused address: 127\.0\.0\.1 is loopback/,
    );
    expect(good.received).toHaveLength(1);
    expect(internal.received).toHaveLength(0);
  });

  it('refuses a name when any one of its addresses is refused, good ones beside it or not', async () => {
    for (const answers of [[v4('127.0.0.2'), v4('127.0.0.1')], [v4('127.0.0.1'), v4('127.0.0.2')], [v4('127.0.0.1')]]) {
      const result = await safePost(
        `http://partner.test:${good.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver(answers)),
      );
      expect(result).toMatchObject({ delivered: false, refused: true, statusCode: null });
      expect(result.error).toMatch(/which resolves to a refused address: 127\.0\.0\.1 is loopback \(127\.0\.0\.0\/8\)/);
    }
    expect(good.received).toHaveLength(0);
    expect(internal.received).toHaveLength(0);
  });

  it('checks every kind of refused answer: link-local, metadata, IPv6 loopback, IPv4-mapped, private without the allow list', async () => {
    const production = { production: true, allowedNetworks: [] };
    const cases: [LookupAddress[], RegExp][] = [
      [[v4('169.254.1.1')], /link-local/],
      [[v4('169.254.169.254')], /metadata/],
      [[v4('100.100.100.200')], /Alibaba Cloud metadata/],
      [[{ address: 'fd00:ec2::254', family: 6 }], /IPv6 metadata/],
      [[{ address: '::1', family: 6 }], /::1 is loopback/],
      [[{ address: '::ffff:127.0.0.1', family: 6 }], /carries the IPv4 address 127\.0\.0\.1/],
      [[{ address: 'fe80::1%eth0', family: 6 }], /link-local \(fe80::\/10\)/],
      [[v4('93.184.216.34'), v4('10.0.0.5')], /10\.0\.0\.5 is a private address \(10\.0\.0\.0\/8\)/],
    ];
    for (const [answers, reason] of cases) {
      const resolved = await resolveEndpoint(
        'https://partner.example.gov.cn/hooks',
        production,
        scriptedResolver(answers),
      );
      expect(resolved).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    }
    const allowed = await resolveEndpoint(
      'https://partner.example.gov.cn/hooks',
      { production: true, allowedNetworks: ['10.0.0.0/24'] },
      scriptedResolver([v4('93.184.216.34'), v4('10.0.0.5')]),
    );
    expect(allowed).toMatchObject({
      ok: true,
      host: 'partner.example.gov.cn',
      addresses: [v4('93.184.216.34'), v4('10.0.0.5')],
    });
  });

  it('refuses an IP literal without asking the resolver, and a name that does not resolve', async () => {
    const resolver = scriptedResolver([v4('127.0.0.2')]);
    const literal = await safePost(`http://127.0.0.1:${good.port}/hooks`, '{}', {}, options(resolver));
    expect(literal).toMatchObject({ delivered: false, refused: true });
    expect(literal.error).toMatch(/is refused: 127\.0\.0\.1 is loopback/);
    expect(resolver.asked).toEqual([]);

    const failing: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.test'), { code: 'ENOTFOUND' });
    };
    const unknown = await safePost('https://nowhere.test/hooks', '{}', {}, options(failing));
    expect(unknown.error).toBe(
      'refused: https://nowhere.test/hooks names nowhere.test, which does not resolve (ENOTFOUND); check the host name',
    );
    const empty = await resolveEndpoint('https://nowhere.test/hooks', options(failing), scriptedResolver([]));
    expect(empty).toEqual({
      ok: false,
      reason: 'names nowhere.test, which resolves to no address; check the host name',
    });
    expect(internal.received).toHaveLength(0);
  });

  it('delivers to an IP literal a test opened, and keeps testNetworks out of production', async () => {
    const resolver = scriptedResolver([]);
    const opened = await safePost(`http://127.0.0.2:${good.port}/hooks`, '{}', {}, options(resolver));
    expect(opened).toMatchObject({ delivered: true, statusCode: 204, address: '127.0.0.2' });
    expect(good.received).toHaveLength(1);
    await expect(
      safePost(`https://127.0.0.2:${good.port}/hooks`, '{}', {}, options(resolver, { production: true })),
    ).rejects.toThrow(/testNetworks is for tests/);
    const plain = await safePost(
      `http://127.0.0.2:${good.port}/hooks`,
      '{}',
      {},
      options(resolver, { testNetworks: [] }),
    );
    expect(plain).toMatchObject({ delivered: false, refused: true });
    expect(good.received).toHaveLength(1);
  });

  it('does not follow a redirect to a refused address, and records the status a receiver answers', async () => {
    const redirecting = await receiver('127.0.0.2', 0, (response) =>
      response.writeHead(307, { location: `http://127.0.0.1:${internal.port}/hooks` }).end(),
    );
    const failing = await receiver('127.0.0.2', 0, (response) => response.writeHead(503).end('busy'));
    try {
      const redirected = await safePost(
        `http://partner.test:${redirecting.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver([v4('127.0.0.2')])),
      );
      expect(redirected).toMatchObject({
        delivered: false,
        statusCode: 307,
        error: 'the receiver answered HTTP 307 (redirects are not followed)',
      });
      expect(redirecting.received).toHaveLength(1);
      expect(internal.received).toHaveLength(0);

      const busy = await safePost(
        `http://partner.test:${failing.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver([v4('127.0.0.2')])),
      );
      expect(busy).toMatchObject({
        delivered: false,
        statusCode: 503,
        error: 'the receiver answered HTTP 503',
        refused: false,
      });
    } finally {
      await close(redirecting);
      await close(failing);
    }
  });

  it('speaks https to the pinned address while verifying the certificate against the name', async () => {
    const secure = await receiver('127.0.0.2', 0, undefined, true);
    try {
      const trusted = { extraCertificates: [TLS.cert.toString('utf8')] };
      const delivered = await safePost(
        `https://partner.test:${secure.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver([v4('127.0.0.2')]), trusted),
      );
      expect(delivered).toMatchObject({ delivered: true, statusCode: 204, address: '127.0.0.2' });
      expect(secure.received).toHaveLength(1);

      const untrusted = await safePost(
        `https://partner.test:${secure.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver([v4('127.0.0.2')])),
      );
      expect(untrusted).toMatchObject({ delivered: false, statusCode: null });
      expect(untrusted.error).toMatch(/self-signed certificate/);
      const wrongName = await safePost(
        `https://127.0.0.2:${secure.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver([]), trusted),
      );
      expect(wrongName).toMatchObject({ delivered: false, statusCode: null });
      expect(wrongName.error).toMatch(/IP: 127\.0\.0\.2 is not in the cert's list/);
      expect(secure.received).toHaveLength(1);
    } finally {
      await close(secure);
    }
  });

  it('gives up when the receiver or the resolver does not answer within the timeout', async () => {
    const silent = await receiver('127.0.0.2', 0, () => undefined);
    try {
      const unanswered = await safePost(
        `http://partner.test:${silent.port}/hooks`,
        '{}',
        {},
        options(scriptedResolver([v4('127.0.0.2')]), { timeoutMs: 200 }),
      );
      expect(unanswered).toMatchObject({
        delivered: false,
        statusCode: null,
        error: 'no answer within 200 ms',
        address: null,
      });
      expect(silent.received).toHaveLength(1);
    } finally {
      await close(silent);
    }
    const hanging: Resolver = () => new Promise<LookupAddress[]>(() => undefined);
    const unresolved = await safePost('http://partner.test/hooks', '{}', {}, options(hanging, { timeoutMs: 100 }));
    expect(unresolved).toMatchObject({
      delivered: false,
      refused: false,
      error: 'no answer within 100 ms (resolving the host)',
    });
  });
});
