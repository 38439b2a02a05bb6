// 评标费预支 through the gateway: the computed advance, its ledger entries, balances, refusals that write nothing, a race.
import { reverseOpenLedgerEntries } from '../subgraphs/projects/ledger';
import { cancelProject } from '../subgraphs/projects/steps/cancel-project';
import { confirmVenues } from './support/expert-draw';
import { filedThroughGateway } from './support/booking';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
  // Known rates (fen per half day) so the expected amounts read as arithmetic: the county is cheaper, Zhengzhou dearer.
  const rates: [string, number, number][] = [
    [ZHUMADIAN, 50_000, 6_000],
    [COUNTY, 40_000, 5_000],
    [CITY, 60_000, 7_500],
  ];
  for (const [id, expertFeeRate, seatServiceFee] of rates) {
    await t.databases.venues.db
      .updateTable('platform')
      .set({ expert_fee_rate: expertFeeRate, seat_service_fee: seatServiceFee })
      .where('id', '=', id)
      .execute();
  }
});
afterAll(async () => {
  await t.stop();
});

const COUNTY = '411721';
const CITY = '410100';
const AGENCY = '驻马店示例招标代理有限公司';

/** 09:00 to 17:00 China Standard Time, `days` from now: a morning and an afternoon. */
const window = (days: number) => {
  const starts = new Date(Date.now() + days * 86_400_000);
  starts.setUTCHours(1, 0, 0, 0);
  return { starts, ends: new Date(starts.getTime() + 8 * 3_600_000) };
};

const ADVANCE = `mutation($id: ID!) { advanceEvaluationFee(projectId: $id) { id status feeAdvance ledger { id kind payer payee amount reverses } timeline { kind detail } } }`;

let serial = 0;
/** A REMOTE project of Zhumadian, FILED by its supervisor: the step before its venues are arranged. */
async function filedProject(days = 10 + serial): Promise<string> {
  serial += 1;
  return filedThroughGateway(t, AGENCY, 'ZMD-FEE', window(days));
}

/**
 * A REMOTE project at VENUES_CONFIRMED through arrangeVenues and the booking saga: the main room at Zhumadian, 2 seats at
 * the county (which confirms at once) and 1 at Zhengzhou (confirmed by its operator).
 */
async function confirmedProject(days = 10 + serial): Promise<string> {
  const id = await filedProject(days);
  await confirmVenues(
    t,
    { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: ZHUMADIAN },
    id,
    `room-${ZHUMADIAN}-1`,
    [
      { roomId: `room-${COUNTY}-1`, seats: 2 },
      { roomId: `room-${CITY}-1`, seats: 1 },
    ],
  );
  return id;
}

// 6 drawn experts: 3 at the main room, 2 at the county, 1 at Zhengzhou; 2 half days.
const MAIN_FEES = 3n * 50_000n * 2n; // host rate
const COUNTY_OWED = 2n * 50_000n * 2n + 2n * 5_000n * 2n; // the county's rate is lower: the host's applies
const CITY_OWED = 1n * 60_000n * 2n + 1n * 7_500n * 2n; // Zhengzhou's rate is higher: its own applies
const TOTAL = MAIN_FEES + COUNTY_OWED + CITY_OWED;

async function ledgerRows(projectId: string) {
  return t.databases.projects.db
    .selectFrom('ledger_entry')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('id')
    .execute();
}
async function eventKinds(projectId: string) {
  return (
    await t.databases.projects.db
      .selectFrom('project_event')
      .select('kind')
      .where('project_id', '=', projectId)
      .orderBy('seq')
      .execute()
  ).map((row) => row.kind);
}

describe('advanceEvaluationFee', () => {
  it('computes the advance, records agency → host and host → each partner, and moves to FEE_ADVANCED', async () => {
    const id = await confirmedProject();
    const response = await t.graphql<{
      advanceEvaluationFee: {
        status: string;
        feeAdvance: string;
        ledger: { id: string; kind: string; payer: string; payee: string; amount: string }[];
        timeline: { kind: string; detail: string }[];
      };
    }>(as.agency(AGENCY), ADVANCE, { id });
    expect(response.errors).toBeUndefined();
    const project = response.data!.advanceEvaluationFee;
    expect(project.status).toBe('FEE_ADVANCED');
    expect(project.feeAdvance).toBe(TOTAL.toString());
    expect(project.ledger).toEqual(
      expect.arrayContaining([
        {
          id: `${id}:advance`,
          kind: 'FEE_ADVANCE',
          payer: `agency:${AGENCY}`,
          payee: `platform:${ZHUMADIAN}`,
          amount: TOTAL.toString(),
          reverses: null,
        },
        {
          id: `${id}:payable:${COUNTY}`,
          kind: 'PARTNER_PAYABLE',
          payer: `platform:${ZHUMADIAN}`,
          payee: `platform:${COUNTY}`,
          amount: COUNTY_OWED.toString(),
          reverses: null,
        },
        {
          id: `${id}:payable:${CITY}`,
          kind: 'PARTNER_PAYABLE',
          payer: `platform:${ZHUMADIAN}`,
          payee: `platform:${CITY}`,
          amount: CITY_OWED.toString(),
          reverses: null,
        },
      ]),
    );
    expect(project.ledger).toHaveLength(3);
    expect(project.timeline.at(-1)).toEqual({
      kind: 'FEE_ADVANCED',
      detail: `evaluation fee of ${TOTAL / 100n}.00 CNY advanced for 2 half day(s)`,
    });

    const balances = await t.graphql<{
      platformBalances: { partner: { id: string; name: string }; payable: string; receivable: string }[];
    }>(
      as.operator(COUNTY),
      `{ platformBalances(platformId: "${COUNTY}") { partner { id name } payable receivable entries } }`,
    );
    expect(balances.errors).toBeUndefined();
    expect(balances.data!.platformBalances).toEqual([
      {
        partner: { id: ZHUMADIAN, name: '驻马店市公共资源交易中心' },
        payable: '0',
        receivable: COUNTY_OWED.toString(),
        entries: 1,
      },
    ]);
  });

  it("sums the host's balances over projects, partner by partner", async () => {
    const before = await t.graphql<{ platformBalances: { partner: { id: string }; payable: string }[] }>(
      as.admin,
      `{ platformBalances(platformId: "${ZHUMADIAN}") { partner { id } payable } }`,
    );
    const payableTo = (rows: { partner: { id: string }; payable: string }[], partner: string) =>
      BigInt(rows.find((row) => row.partner.id === partner)?.payable ?? '0');
    const id = await confirmedProject();
    await t.graphql(as.operator(), ADVANCE, { id });
    const after = await t.graphql<{ platformBalances: { partner: { id: string }; payable: string }[] }>(
      as.admin,
      `{ platformBalances(platformId: "${ZHUMADIAN}") { partner { id } payable } }`,
    );
    expect(payableTo(after.data!.platformBalances, COUNTY) - payableTo(before.data!.platformBalances, COUNTY)).toBe(
      COUNTY_OWED,
    );
    expect(payableTo(after.data!.platformBalances, CITY) - payableTo(before.data!.platformBalances, CITY)).toBe(
      CITY_OWED,
    );
  });

  it.each([
    ['another agency', as.agency('其他示例代理公司')],
    ['an operator of another platform', as.operator(COUNTY)],
    ['a supervisor', as.supervisor('HOUSING_AND_CONSTRUCTION')],
    ['an expert', as.expert('exp-00001')],
  ])('refuses %s with FORBIDDEN and writes nothing', async (_name, identity) => {
    const id = await confirmedProject();
    const before = await eventKinds(id);
    expect(before.at(-1)).toBe('VENUES_CONFIRMED');
    const response = await t.graphql(identity, ADVANCE, { id });
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await ledgerRows(id)).toEqual([]);
    expect(await eventKinds(id)).toEqual(before);
  });

  it('refuses a project whose venues are not confirmed with CONFLICT, and a second advance too', async () => {
    const id = await filedProject();
    const early = await t.graphql(as.agency(AGENCY), ADVANCE, { id });
    expect(early.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await ledgerRows(id)).toEqual([]);

    await confirmVenues(
      t,
      { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: ZHUMADIAN },
      id,
      `room-${ZHUMADIAN}-1`,
      [
        { roomId: `room-${COUNTY}-1`, seats: 2 },
        { roomId: `room-${CITY}-1`, seats: 1 },
      ],
    );
    expect((await t.graphql(as.agency(AGENCY), ADVANCE, { id })).errors).toBeUndefined();
    const again = await t.graphql(as.agency(AGENCY), ADVANCE, { id });
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(await ledgerRows(id)).toHaveLength(3);
  });

  it('charges once when the agency and the operator advance at the same moment', async () => {
    const id = await confirmedProject();
    const answers = await Promise.all([
      t.graphql(as.agency(AGENCY), ADVANCE, { id }),
      t.graphql(as.operator(), ADVANCE, { id }),
      t.graphql(as.agency(AGENCY), ADVANCE, { id }),
    ]);
    expect(answers.filter((answer) => !answer.errors)).toHaveLength(1);
    expect(answers.filter((answer) => answer.errors?.[0].extensions?.code === 'CONFLICT')).toHaveLength(2);
    const rows = await ledgerRows(id);
    expect(rows).toHaveLength(3);
    expect((await eventKinds(id)).filter((kind) => kind === 'FEE_ADVANCED')).toHaveLength(1);
  });

  it("lets only the provincial admin and the platform's own operators read its balances", async () => {
    for (const identity of [as.operator(COUNTY), as.agency(AGENCY), as.supervisor('FINANCE'), as.partner(ZHUMADIAN)]) {
      const response = await t.graphql(identity, `{ platformBalances(platformId: "${ZHUMADIAN}") { payable } }`);
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });
});

describe('reversal after a cancellation', () => {
  // The hub has no settlement step yet: the settled entry is written by hand (the one deliberate write into the ledger
  // here), and put back open once the assertions are made.
  it('compensates every open entry once, never deletes one, and leaves every balance of the project at zero (one entry marked settled by hand, then reopened)', async () => {
    const id = await confirmedProject();
    expect((await t.graphql(as.agency(AGENCY), ADVANCE, { id })).errors).toBeUndefined();
    const settledByHand = `${id}:payable:${CITY}`;
    await t.databases.projects.db
      .updateTable('ledger_entry')
      .set({ settled_at: new Date() })
      .where('id', '=', settledByHand)
      .execute();
    await cancelProject(
      t.hub.services.projects,
      { sub: 'test-operator', role: 'PLATFORM_OPERATOR', platform: ZHUMADIAN },
      id,
      '招标人撤回',
    );
    expect(await reverseOpenLedgerEntries(t.hub.services.projects, id, 'test cancellation')).toBe(2);
    expect(await reverseOpenLedgerEntries(t.hub.services.projects, id, 'test cancellation')).toBe(0);
    const rows = await ledgerRows(id);
    expect(rows).toHaveLength(5);
    // Open entries net to zero per pair of parties; the settled one is left to settlement.
    const net = new Map<string, bigint>();
    for (const row of rows.filter((entry) => entry.settled_at === null)) {
      const pair = [row.payer, row.payee].sort().join(' ~ ');
      net.set(pair, (net.get(pair) ?? 0n) + (row.payer < row.payee ? 1n : -1n) * BigInt(row.amount));
    }
    expect([...net.values()].every((amount) => amount === 0n)).toBe(true);
    expect(
      rows
        .filter((row) => row.kind === 'REVERSAL')
        .map((row) => row.reverses)
        .sort(),
    ).toEqual([`${id}:advance`, `${id}:payable:${COUNTY}`].sort());
    expect((await eventKinds(id)).filter((kind) => kind === 'LEDGER_REVERSED')).toHaveLength(1);
    await t.databases.projects.db
      .updateTable('ledger_entry')
      .set({ settled_at: null })
      .where('id', '=', settledByHand)
      .execute();
  });
});

describe('the ledger table', () => {
  // The table's own constraints, below the service that never writes such rows: the reversals are written by hand, and
  // the one it accepts is taken out again.
  it('refuses a reversal written by hand that does not pay back exactly what it reverses, and a second reversal of the same entry (the accepted one removed after)', async () => {
    const id = await confirmedProject();
    await t.graphql(as.agency(AGENCY), ADVANCE, { id });
    const original = `${id}:payable:${COUNTY}`;
    const reversal = (suffix: string, amount: bigint, payer: string, payee: string) => ({
      id: `${original}:${suffix}`,
      project_id: id,
      kind: 'REVERSAL' as const,
      payer,
      payee,
      amount,
      reverses: original,
      detail: '{}',
      settled_at: null,
    });
    const db = t.databases.projects.db;
    await expect(
      db
        .insertInto('ledger_entry')
        .values(reversal('short', COUNTY_OWED - 1n, `platform:${COUNTY}`, `platform:${ZHUMADIAN}`))
        .execute(),
    ).rejects.toThrow(/foreign key/);
    await expect(
      db
        .insertInto('ledger_entry')
        .values(reversal('same-way', COUNTY_OWED, `platform:${ZHUMADIAN}`, `platform:${COUNTY}`))
        .execute(),
    ).rejects.toThrow(/foreign key/);
    await db
      .insertInto('ledger_entry')
      .values(reversal('ok', COUNTY_OWED, `platform:${COUNTY}`, `platform:${ZHUMADIAN}`))
      .execute();
    await expect(
      db
        .insertInto('ledger_entry')
        .values(reversal('twice', COUNTY_OWED, `platform:${COUNTY}`, `platform:${ZHUMADIAN}`))
        .execute(),
    ).rejects.toThrow(/unique/);
    await db.deleteFrom('ledger_entry').where('id', '=', `${original}:ok`).execute();
    expect(await ledgerRows(id)).toHaveLength(3);
  });
});
