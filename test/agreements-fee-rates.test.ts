// Cooperation agreements and fee rates kept by the province (MASTER-DATA.md): agreements set and ended (new arrangements
// refused, bookings made stand), rates versioned by effectiveFrom, the fee advance using the version in effect at the
// evaluation's start, and a fee already advanced never changing. Each change writes one audit record.
import { arrangeVenues } from '../subgraphs/projects/steps/arrange-venues';
import { confirmVenues } from './support/expert-draw';
import { filedThroughGateway } from './support/booking';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

const COUNTY = '411721';
const CITY = '410100';
const AGENCY = '驻马店示例招标代理有限公司';
const HOST_OPERATOR = { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: ZHUMADIAN } as const;

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(() => t.stop());

const SET_RATES = `mutation ($platformId: ID!, $e: Money!, $s: Money!, $from: DateTime!) {
  setFeeRates(platformId: $platformId, expertFeeRate: $e, seatServiceFee: $s, effectiveFrom: $from) {
    id expertFeeRate seatServiceFee feeRateHistory { expertFeeRate seatServiceFee effectiveFrom } } }`;
const SET_AGREEMENT = `mutation ($platformId: ID!, $partnerId: ID!, $auto: Boolean!) {
  setCooperationAgreement(platformId: $platformId, partnerId: $partnerId, autoConfirm: $auto) { autoConfirm partner { id } } }`;
const END_AGREEMENT = `mutation ($platformId: ID!, $partnerId: ID!) {
  endCooperationAgreement(platformId: $platformId, partnerId: $partnerId) { id partners { partner { id } } } }`;

/** 09:00 to 17:00 China Standard Time, `days` from now. */
const window = (days: number) => {
  const starts = new Date(Date.now() + days * 86_400_000);
  starts.setUTCHours(1, 0, 0, 0);
  return { starts, ends: new Date(starts.getTime() + 8 * 3_600_000) };
};

async function filedProject(days: number): Promise<string> {
  return filedThroughGateway(t, AGENCY, 'ZMD-RATES', window(days));
}

async function changes(entityType: string) {
  return t.databases.venues.db
    .selectFrom('master_data_change')
    .selectAll()
    .where('entity_type', '=', entityType)
    .orderBy('id')
    .execute();
}

async function ledgerOf(projectId: string) {
  return t.databases.projects.db
    .selectFrom('ledger_entry')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('id')
    .execute();
}

describe('setFeeRates', () => {
  it('is the province’s only, versions rates by effectiveFrom, and reads today’s rates', async () => {
    const before = await changes('FeeRates');
    const vars = { platformId: CITY, e: '61000', s: '7600', from: new Date(Date.now() - 3_600_000).toISOString() };
    for (const caller of [as.operator(CITY), as.partner(CITY), as.supervisor('FINANCE', CITY)]) {
      const refused = await t.graphql(caller, SET_RATES, vars);
      expect(refused.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const tooHigh = await t.graphql(as.admin, SET_RATES, { ...vars, e: '100000000000' });
    expect(tooHigh.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(tooHigh.errors?.[0].message).toMatch(/expertFeeRate/);
    expect(await changes('FeeRates')).toEqual(before);

    const now = await t.graphql<{ setFeeRates: Record<string, unknown> & { feeRateHistory: unknown[] } }>(
      as.admin,
      SET_RATES,
      vars,
    );
    expect(now.errors).toBeUndefined();
    expect([now.data!.setFeeRates.expertFeeRate, now.data!.setFeeRates.seatServiceFee]).toEqual(['61000', '7600']);
    // A version not yet in effect changes the history, not today's rates.
    const future = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const later = await t.graphql<{
      setFeeRates: Record<string, unknown> & { feeRateHistory: { expertFeeRate: string; effectiveFrom: string }[] };
    }>(as.admin, SET_RATES, { ...vars, e: '70000', s: '8000', from: future });
    expect(later.errors).toBeUndefined();
    expect([later.data!.setFeeRates.expertFeeRate, later.data!.setFeeRates.seatServiceFee]).toEqual(['61000', '7600']);
    const history = later.data!.setFeeRates.feeRateHistory;
    expect(history.slice(0, 2).map((version) => [version.expertFeeRate, version.effectiveFrom])).toEqual([
      ['70000', future],
      ['61000', vars.from],
    ]);
    expect(history[history.length - 1].effectiveFrom).toBe('1970-01-01T00:00:00.000Z');
    const records = (await changes('FeeRates')).slice(before.length);
    expect(records.map((record) => [record.entity_id, record.role, record.after])).toEqual([
      [CITY, 'PROVINCIAL_ADMIN', { expertFeeRate: '61000', seatServiceFee: '7600', effectiveFrom: vars.from }],
      [CITY, 'PROVINCIAL_ADMIN', { expertFeeRate: '70000', seatServiceFee: '8000', effectiveFrom: future }],
    ]);
  });

  it('advances a fee at the rates in effect when the evaluation starts, and never changes it afterwards', async () => {
    const days = 40;
    const { starts } = window(days);
    const dayBefore = new Date(starts.getTime() - 86_400_000).toISOString();
    const hourAfter = new Date(starts.getTime() + 3_600_000).toISOString();
    const rates: [string, string, string][] = [
      [ZHUMADIAN, '50000', '6000'],
      [COUNTY, '40000', '5000'],
      [CITY, '60000', '7500'],
    ];
    for (const [platformId, e, s] of rates) {
      expect((await t.graphql(as.admin, SET_RATES, { platformId, e, s, from: dayBefore })).errors).toBeUndefined();
      // Rates that take effect once the evaluation has started never reach its fee.
      expect(
        (await t.graphql(as.admin, SET_RATES, { platformId, e: '99000', s: '9900', from: hourAfter })).errors,
      ).toBeUndefined();
    }
    const id = await filedProject(days);
    await confirmVenues(t, HOST_OPERATOR, id, `room-${ZHUMADIAN}-1`, [
      { roomId: `room-${COUNTY}-1`, seats: 2 },
      { roomId: `room-${CITY}-1`, seats: 1 },
    ]);
    const advanced = await t.graphql<{ advanceEvaluationFee: { feeAdvance: string } }>(
      as.agency(AGENCY),
      `mutation($id: ID!) { advanceEvaluationFee(projectId: $id) { feeAdvance } }`,
      { id },
    );
    expect(advanced.errors).toBeUndefined();
    // 6 experts over 2 half days: 3 at the host's rate, 2 at the county at the host's (higher) rate plus its seat fee,
    // 1 at Zhengzhou at its own (higher) rate plus its seat fee.
    const expected = 3n * 50_000n * 2n + (2n * 50_000n * 2n + 2n * 5_000n * 2n) + (60_000n * 2n + 7_500n * 2n);
    expect(advanced.data!.advanceEvaluationFee.feeAdvance).toBe(expected.toString());

    const ledger = await ledgerOf(id);
    // New rates in effect at the start, after the advance: the fee and its ledger stay as they were.
    for (const [platformId] of rates)
      expect(
        (await t.graphql(as.admin, SET_RATES, { platformId, e: '1000', s: '100', from: starts.toISOString() })).errors,
      ).toBeUndefined();
    expect(await ledgerOf(id)).toEqual(ledger);
    const project = await t.databases.projects.db
      .selectFrom('project')
      .select('fee_advance')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(String(project.fee_advance)).toBe(expected.toString());
  });
});

describe('cooperation agreements', () => {
  it('are set and changed by the province only, each change audited', async () => {
    const before = await changes('CooperationAgreement');
    const vars = { platformId: CITY, partnerId: COUNTY, auto: false };
    for (const caller of [as.operator(CITY), as.partner(CITY), as.agency(AGENCY, CITY)]) {
      expect((await t.graphql(caller, SET_AGREEMENT, vars)).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    expect((await changes('CooperationAgreement')).length).toBe(before.length);
    const itself = await t.graphql(as.admin, SET_AGREEMENT, { ...vars, partnerId: CITY });
    expect(itself.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');

    const set = await t.graphql<{ setCooperationAgreement: { autoConfirm: boolean; partner: { id: string } } }>(
      as.admin,
      SET_AGREEMENT,
      vars,
    );
    expect(set.data?.setCooperationAgreement).toEqual({ autoConfirm: false, partner: { id: COUNTY } });
    const changed = await t.graphql(as.admin, SET_AGREEMENT, { ...vars, auto: true });
    expect(changed.errors).toBeUndefined();
    const records = (await changes('CooperationAgreement')).slice(before.length);
    expect(records.map((record) => [record.entity_id, record.before, record.after])).toEqual([
      [`${CITY}/${COUNTY}`, null, { platformId: CITY, partnerId: COUNTY, autoConfirm: false }],
      [
        `${CITY}/${COUNTY}`,
        { platformId: CITY, partnerId: COUNTY, autoConfirm: false },
        { platformId: CITY, partnerId: COUNTY, autoConfirm: true },
      ],
    ]);
  });

  it('ended, refuses new arrangements with the partner while bookings already made stand', async () => {
    const booked = await filedProject(50);
    await confirmVenues(t, HOST_OPERATOR, booked, `room-${ZHUMADIAN}-2`, [{ roomId: `room-${COUNTY}-1`, seats: 2 }]);

    expect(
      (await t.graphql(as.operator(ZHUMADIAN), END_AGREEMENT, { platformId: ZHUMADIAN, partnerId: COUNTY })).errors?.[0]
        .extensions?.code,
    ).toBe('FORBIDDEN');
    const ended = await t.graphql<{ endCooperationAgreement: { partners: { partner: { id: string } }[] } }>(
      as.admin,
      END_AGREEMENT,
      { platformId: ZHUMADIAN, partnerId: COUNTY },
    );
    expect(ended.errors).toBeUndefined();
    expect(ended.data!.endCooperationAgreement.partners.map((p) => p.partner.id)).not.toContain(COUNTY);
    const again = await t.graphql(as.admin, END_AGREEMENT, { platformId: ZHUMADIAN, partnerId: COUNTY });
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');

    const next = await filedProject(52);
    const { projects, venues } = t.hub.services;
    await expect(
      arrangeVenues({ projects, venues }, HOST_OPERATOR, {
        projectId: next,
        mainRoomId: `room-${ZHUMADIAN}-2`,
        secondary: [{ roomId: `room-${COUNTY}-1`, seats: 2 }],
      }),
    ).rejects.toThrow(/no cooperation agreement/);
    const standing = await t.databases.venues.db
      .selectFrom('booking')
      .select(['status'])
      .where('project_id', '=', booked)
      .execute();
    expect(standing.map((booking) => booking.status).sort()).toEqual(['CONFIRMED', 'CONFIRMED']);
    const record = (await changes('CooperationAgreement')).pop();
    expect([record?.entity_id, record?.after]).toEqual([`${ZHUMADIAN}/${COUNTY}`, null]);
  });
});
