// Partner endpoints (MASTER-DATA.md): the address rules at save time and again at every delivery, where the name is
// resolved anew (an injected resolver stands in for DNS, so a name can be rebound to a refused address between the two),
// and the signed ping testPartnerEndpoint sends through the same delivery path as the saga's decision webhooks.
import type { LookupAddress } from 'node:dns';
import { WEBHOOK_SIGNATURE_HEADER, webhookSignature } from '../lib/safe-delivery';
import { webhookReceiver } from './support/booking';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

const OTHER = '410300';
/** What the test's DNS answers, per name; changed between saving and delivering to rebind a name. */
const dnsAnswers = new Map<string, string[]>();
const resolver = async (hostname: string): Promise<LookupAddress[]> => {
  const answers = dnsAnswers.get(hostname);
  if (!answers) throw Object.assign(new Error(`no such name ${hostname}`), { code: 'ENOTFOUND' });
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false, webhookDelivery: { resolver, testNetworks: ['127.0.0.1/32'] } });
});
afterAll(() => t.stop());

const SET = `mutation ($platformId: ID!, $url: String) { setPartnerEndpoint(platformId: $platformId, url: $url) { id } }`;
const PING = `mutation ($platformId: ID!) { testPartnerEndpoint(platformId: $platformId) {
  id event url status attempts lastStatusCode lastError booking { id } } }`;

async function endpointOf(platformId: string): Promise<string | null> {
  const row = await t.databases.venues.db
    .selectFrom('platform')
    .select('webhook_url')
    .where('id', '=', platformId)
    .executeTakeFirstOrThrow();
  return row.webhook_url;
}

async function changeCount(): Promise<number> {
  const row = await t.databases.venues.db
    .selectFrom('master_data_change')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

describe('setPartnerEndpoint', () => {
  it.each([
    ['loopback', 'http://127.0.0.2:8080/hooks', /loopback/],
    ['loopback by name', 'http://localhost:8080/hooks', /loopback/],
    ['IPv6 loopback', 'http://[::1]:8080/hooks', /loopback/],
    ['link-local', 'http://169.254.10.1/hooks', /link-local/],
    ['metadata', 'http://169.254.169.254/latest/meta-data', /metadata/],
    ['private without the allow list', 'https://10.20.0.5/hooks', /WEBHOOK_ALLOWED_NETWORKS/],
    [
      'a name that resolves to a refused address',
      'https://metadata.partner.test/hooks',
      /resolves to a refused address/,
    ],
    ['a name that resolves to a good and a refused address', 'https://mixed.partner.test/hooks', /10\.0\.0\.1/],
    ['not a URL', 'partner.example.gov.cn/hooks', /not an absolute URL/],
  ])('refuses %s with BAD_USER_INPUT naming why, and writes nothing', async (_case, url, why) => {
    dnsAnswers.set('metadata.partner.test', ['169.254.169.254']);
    dnsAnswers.set('mixed.partner.test', ['127.0.0.1', '10.0.0.1']);
    const before = [await endpointOf(ZHUMADIAN), await changeCount()];
    const answer = await t.graphql(as.admin, SET, { platformId: ZHUMADIAN, url });
    expect(answer.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(answer.errors?.[0].message).toMatch(/url/);
    expect(answer.errors?.[0].message).toMatch(why);
    expect([await endpointOf(ZHUMADIAN), await changeCount()]).toEqual(before);
  });

  it("lets a platform's operator keep its own endpoint only, records the change, and clears it with null", async () => {
    dnsAnswers.set('own.partner.test', ['127.0.0.1']);
    const other = await t.graphql(as.operator(OTHER), SET, { platformId: ZHUMADIAN, url: 'http://own.partner.test/' });
    expect(other.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    const partner = await t.graphql(as.partner(ZHUMADIAN), SET, {
      platformId: ZHUMADIAN,
      url: 'http://own.partner.test/',
    });
    expect(partner.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await endpointOf(ZHUMADIAN)).toBeNull();

    const own = await t.graphql(as.operator(ZHUMADIAN), SET, {
      platformId: ZHUMADIAN,
      url: 'http://own.partner.test/',
    });
    expect(own.errors).toBeUndefined();
    expect(await endpointOf(ZHUMADIAN)).toBe('http://own.partner.test/');
    const cleared = await t.graphql(as.operator(ZHUMADIAN), SET, { platformId: ZHUMADIAN, url: null });
    expect(cleared.errors).toBeUndefined();
    expect(await endpointOf(ZHUMADIAN)).toBeNull();

    const records = await t.databases.venues.db
      .selectFrom('master_data_change')
      .selectAll()
      .where('entity_type', '=', 'Platform')
      .where('entity_id', '=', ZHUMADIAN)
      .orderBy('id')
      .execute();
    expect(records.map((record) => [record.role, record.before, record.after])).toEqual([
      ['PLATFORM_OPERATOR', { webhookUrl: null }, { webhookUrl: 'http://own.partner.test/' }],
      ['PLATFORM_OPERATOR', { webhookUrl: 'http://own.partner.test/' }, { webhookUrl: null }],
    ]);
  });
});

describe('testPartnerEndpoint and every delivery', () => {
  it('sends a signed ping to the endpoint, and refuses it once the name resolves to a refused address', async () => {
    const receiver = await webhookReceiver();
    try {
      const port = new URL(receiver.url).port;
      dnsAnswers.set('hooks.partner.test', ['127.0.0.1']);
      const url = `http://hooks.partner.test:${port}/hooks/bookings`;
      expect((await t.graphql(as.admin, SET, { platformId: ZHUMADIAN, url })).errors).toBeUndefined();

      const ping = await t.graphql<{ testPartnerEndpoint: Record<string, unknown> }>(as.operator(ZHUMADIAN), PING, {
        platformId: ZHUMADIAN,
      });
      expect(ping.errors).toBeUndefined();
      expect(ping.data!.testPartnerEndpoint).toMatchObject({
        event: 'ping',
        url,
        status: 'DELIVERED',
        attempts: 1,
        lastStatusCode: 204,
        lastError: null,
        booking: null,
      });
      expect(receiver.received).toHaveLength(1);
      const [hook] = receiver.received;
      expect(hook.headers[WEBHOOK_SIGNATURE_HEADER]).toBe(webhookSignature(t.config.WEBHOOK_SECRET, hook.body));
      expect(JSON.parse(hook.body)).toMatchObject({ event: 'ping', platformId: ZHUMADIAN });

      // DNS rebinding: the saved name now answers the metadata address; the delivery re-checks and sends nothing.
      dnsAnswers.set('hooks.partner.test', ['169.254.169.254']);
      const refused = await t.graphql<{ testPartnerEndpoint: Record<string, unknown> }>(as.admin, PING, {
        platformId: ZHUMADIAN,
      });
      expect(refused.errors).toBeUndefined();
      expect(refused.data!.testPartnerEndpoint).toMatchObject({ status: 'DEAD', lastStatusCode: null });
      expect(refused.data!.testPartnerEndpoint.lastError).toMatch(/refused: .*169\.254\.169\.254.*metadata/);
      // Private without the allow list, at delivery time too.
      dnsAnswers.set('hooks.partner.test', ['192.168.1.20']);
      const privateAnswer = await t.graphql<{ testPartnerEndpoint: { lastError: string } }>(as.admin, PING, {
        platformId: ZHUMADIAN,
      });
      expect(privateAnswer.data!.testPartnerEndpoint.lastError).toMatch(
        /refused: .*192\.168\.1\.20.*WEBHOOK_ALLOWED_NETWORKS/,
      );
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
      await t.databases.venues.db
        .updateTable('platform')
        .set({ webhook_url: null })
        .where('id', '=', ZHUMADIAN)
        .execute();
    }
  });

  it("re-checks at each attempt of the job path the saga's webhooks take: a rebound name gets nothing, a good one the signed body", async () => {
    const receiver = await webhookReceiver();
    try {
      const port = new URL(receiver.url).port;
      dnsAnswers.set('saga.partner.test', ['127.0.0.1']);
      const url = `http://saga.partner.test:${port}/hooks/bookings`;
      // A pending delivery attempted as the notifications job attempts the saga's (VenuesService.deliverWebhook, with
      // retries); a ping-shaped row, as a decision webhook needs a booking.
      const venues = t.hub.services.venues;
      const id = 'whd_rebinding_case';
      await t.databases.venues.db
        .insertInto('webhook_delivery')
        .values({
          id,
          platform_id: ZHUMADIAN,
          booking_id: null,
          event: 'ping',
          url,
          payload: JSON.stringify({ event: 'ping', deliveryId: id }),
          last_status_code: null,
          last_error: null,
          delivered_at: null,
        })
        .execute();
      dnsAnswers.set('saga.partner.test', ['127.0.0.1', '169.254.0.7']);
      const first = await venues.deliverWebhook(id, 1);
      expect([first?.status, first?.attempts]).toEqual(['PENDING', 1]);
      expect(first?.last_error).toMatch(/refused: .*link-local/);
      expect(receiver.received).toHaveLength(0);

      dnsAnswers.set('saga.partner.test', ['127.0.0.1']);
      const second = await venues.deliverWebhook(id, 2);
      expect([second?.status, second?.attempts, second?.last_status_code]).toEqual(['DELIVERED', 2, 204]);
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0].headers[WEBHOOK_SIGNATURE_HEADER]).toBe(
        webhookSignature(t.config.WEBHOOK_SECRET, receiver.received[0].body),
      );
    } finally {
      await receiver.close();
    }
  });

  it('answers CONFLICT when the platform has no endpoint, and FORBIDDEN to another platform', async () => {
    const none = await t.graphql(as.admin, PING, { platformId: OTHER });
    expect(none.errors?.[0].extensions?.code).toBe('CONFLICT');
    const other = await t.graphql(as.operator(OTHER), PING, { platformId: ZHUMADIAN });
    expect(other.errors?.[0].extensions?.code).toBe('FORBIDDEN');
  });
});
