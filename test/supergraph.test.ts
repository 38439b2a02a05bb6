// The supergraph end to end through the gateway: federation across the three subgraphs, roles, validation, signing.
import { signIdentity } from '../lib/identity';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  await t.stop();
});

const inDays = (days: number, hour = 1) => {
  const date = new Date(Date.now() + days * 86_400_000);
  date.setUTCHours(hour, 0, 0, 0);
  return date.toISOString();
};

const SUBMIT = `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id code status budget hostPlatform { id } timeline { kind actor } } }`;
const FILE = `mutation($id: ID!, $approve: Boolean!, $note: String) { fileProject(projectId: $id, approve: $approve, note: $note) { id status timeline { kind detail } } }`;
const AGENCY = '驻马店示例招标代理有限公司';

function submission(overrides: Record<string, unknown> = {}) {
  return {
    code: `ZMD-T-${Math.random().toString(36).slice(2, 8)}`,
    name: '驿城区示例道路改造工程施工',
    category: 'CONSTRUCTION',
    department: 'HOUSING_AND_CONSTRUCTION',
    hostPlatformId: ZHUMADIAN,
    tenderer: '驻马店市示例城市建设投资有限公司',
    agency: AGENCY,
    bidders: ['河南示例路桥建设有限公司', '驻马店示例市政工程有限公司'],
    budget: '1250000000',
    mode: 'REMOTE',
    committeeSize: 5,
    tendererRepresentatives: 1,
    evaluationStartsAt: inDays(10, 1),
    evaluationEndsAt: inDays(10, 9),
    ...overrides,
  };
}

describe('one query over three subgraphs', () => {
  it('returns a project with its host platform name, its bookings with rooms, and its draw status', async () => {
    const room = await t.databases.venues.db
      .selectFrom('room')
      .innerJoin('venue', 'venue.id', 'room.venue_id')
      .select(['room.id', 'room.name'])
      .where('venue.platform_id', '=', ZHUMADIAN)
      .orderBy('room.id')
      .executeTakeFirstOrThrow();
    const project = await t.databases.projects.db
      .selectFrom('project')
      .select(['id', 'code'])
      .where('host_platform_id', '=', ZHUMADIAN)
      .orderBy('id')
      .executeTakeFirstOrThrow();
    const starts = new Date(inDays(20, 1));
    const ends = new Date(inDays(20, 9));
    await t.databases.venues.db
      .insertInto('booking')
      .values({
        id: 'bk-federation',
        arrangement_id: 'arr-federation',
        room_id: room.id,
        project_id: project.id,
        host_platform_id: ZHUMADIAN,
        role: 'MAIN',
        seats: 1,
        starts_at: starts,
        ends_at: ends,
        status: 'CONFIRMED',
        hold_expires_at: null,
        reason: null,
      })
      .execute();
    await t.databases.experts.db
      .insertInto('draw')
      .values({
        id: 'draw-federation',
        project_id: project.id,
        status: 'PENDING',
        seed_commitment: 'a'.repeat(64),
        seed: null,
        supervisor_nonce: null,
        failure_reason: null,
        starts_at: starts,
        ends_at: ends,
        completed_at: null,
      })
      .execute();

    const response = await t.graphql(
      as.admin,
      `query($id: ID!) { project(id: $id) { code hostPlatform { name } venueBookings { id status room { name venue { platform { id } } } } expertDraw { id status seedCommitment seed } } }`,
      { id: project.id },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      project: {
        code: project.code,
        hostPlatform: { name: '驻马店市公共资源交易中心' },
        venueBookings: [
          {
            id: 'bk-federation',
            status: 'CONFIRMED',
            room: { name: room.name, venue: { platform: { id: ZHUMADIAN } } },
          },
        ],
        expertDraw: { id: 'draw-federation', status: 'PENDING', seedCommitment: 'a'.repeat(64), seed: null },
      },
    });
  });
});

describe('submitting and filing', () => {
  it('lets the agency submit and the supervisor of the department file', async () => {
    const submitted = await t.graphql<{
      submitProject: { id: string; status: string; budget: string; timeline: { kind: string; actor: string }[] };
    }>(as.agency(AGENCY), SUBMIT, { input: submission() });
    expect(submitted.errors).toBeUndefined();
    const project = submitted.data!.submitProject;
    expect(project).toMatchObject({
      status: 'SUBMITTED',
      budget: '1250000000',
      hostPlatform: { id: ZHUMADIAN },
      timeline: [{ kind: 'SUBMITTED', actor: `agency:${AGENCY}` }],
    });

    const filed = await t.graphql(as.supervisor('HOUSING_AND_CONSTRUCTION'), FILE, { id: project.id, approve: true });
    expect(filed.errors).toBeUndefined();
    expect(filed.data).toEqual({
      fileProject: {
        id: project.id,
        status: 'FILED',
        timeline: [
          { kind: 'SUBMITTED', detail: expect.any(String) },
          { kind: 'FILED', detail: 'filing approved' },
        ],
      },
    });
  });

  it('lets the host operator submit, and a supervisor of the parent city reject with a reason', async () => {
    const county = '411721';
    const submitted = await t.graphql<{ submitProject: { id: string } }>(as.operator(county), SUBMIT, {
      input: submission({ hostPlatformId: county }),
    });
    expect(submitted.errors).toBeUndefined();
    const filed = await t.graphql(as.supervisor('HOUSING_AND_CONSTRUCTION', ZHUMADIAN), FILE, {
      id: submitted.data!.submitProject.id,
      approve: false,
      note: '招标文件缺少资格审查条件',
    });
    expect(filed.data).toMatchObject({ fileProject: { status: 'REJECTED' } });
  });

  const refusals: [string, Parameters<TestHub['graphql']>[0], Record<string, unknown>][] = [
    ['an agency submitting for another agency', as.agency('其他示例代理公司'), {}],
    ['an operator of another platform', as.operator('410100'), {}],
    ['a supervisor', as.supervisor('FINANCE'), {}],
    ['an expert', as.expert('exp-00001'), {}],
  ];
  it.each(refusals)('refuses %s with FORBIDDEN and writes nothing', async (_name, identity, overrides) => {
    const before = await countProjects();
    const response = await t.graphql(identity, SUBMIT, { input: submission(overrides) });
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(await countProjects()).toBe(before);
  });

  it('refuses filing by the wrong department, the wrong region and a non-supervisor, and changes nothing', async () => {
    const submitted = await t.graphql<{ submitProject: { id: string } }>(as.agency(AGENCY), SUBMIT, {
      input: submission(),
    });
    const id = submitted.data!.submitProject.id;
    for (const identity of [
      as.supervisor('FINANCE'),
      as.supervisor('HOUSING_AND_CONSTRUCTION', '410100'),
      as.operator(),
      as.agency(AGENCY),
    ]) {
      const response = await t.graphql(identity, FILE, { id, approve: true });
      expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    const project = await t.databases.projects.db
      .selectFrom('project')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(project.status).toBe('SUBMITTED');
    const events = await t.databases.projects.db
      .selectFrom('project_event')
      .select('kind')
      .where('project_id', '=', id)
      .execute();
    expect(events.map((event) => event.kind)).toEqual(['SUBMITTED']);
  });

  it('refuses to file a project twice with CONFLICT', async () => {
    const submitted = await t.graphql<{ submitProject: { id: string } }>(as.agency(AGENCY), SUBMIT, {
      input: submission(),
    });
    const id = submitted.data!.submitProject.id;
    await t.graphql(as.supervisor('HOUSING_AND_CONSTRUCTION'), FILE, { id, approve: true });
    const again = await t.graphql(as.supervisor('HOUSING_AND_CONSTRUCTION'), FILE, {
      id,
      approve: false,
      note: 'second thoughts',
    });
    expect(again.errors?.[0].extensions?.code).toBe('CONFLICT');
    expect(again.errors?.[0].message).toMatch(/is FILED; this step needs it to be SUBMITTED/);
  });

  it('shows an agency only its own projects and an operator only its platform', async () => {
    const other = '另一家示例招标代理有限公司';
    await t.graphql(as.agency(other), SUBMIT, { input: submission({ agency: other }) });
    const list = `{ projects(first: 100) { totalCount edges { node { agency hostPlatform { id } } } } }`;
    const agencyView = await t.graphql<{ projects: { edges: { node: { agency: string } }[] } }>(as.agency(other), list);
    expect(agencyView.data!.projects.edges.length).toBeGreaterThan(0);
    expect(new Set(agencyView.data!.projects.edges.map((edge) => edge.node.agency))).toEqual(new Set([other]));
    const operatorView = await t.graphql<{ projects: { edges: { node: { hostPlatform: { id: string } } }[] } }>(
      as.operator('411721'),
      list,
    );
    expect(new Set(operatorView.data!.projects.edges.map((edge) => edge.node.hostPlatform.id))).toEqual(
      new Set(['411721']),
    );
  });

  it('pages through projects with cursors, without repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (let page = 0; page < 50; page++) {
      const response: Awaited<
        ReturnType<
          typeof t.graphql<{
            projects: {
              totalCount: number;
              edges: { node: { id: string } }[];
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
            };
          }>
        >
      > = await t.graphql(
        as.admin,
        `query($after: String) { projects(first: 3, after: $after) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      const connection = response.data!.projects;
      total = connection.totalCount;
      seen.push(...connection.edges.map((edge) => edge.node.id));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen.length).toBe(total);
    expect(new Set(seen).size).toBe(total);
  });
});

async function countProjects(): Promise<number> {
  const row = await t.databases.projects.db
    .selectFrom('project')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('validation', () => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['an even committee', { committeeSize: 6 }, 'committeeSize'],
    ['a committee under 5', { committeeSize: 3, tendererRepresentatives: 0 }, 'committeeSize'],
    [
      'a large procurement with 5 members',
      { category: 'GOVERNMENT_PROCUREMENT', department: 'FINANCE', budget: '1000000000', committeeSize: 5 },
      'committeeSize',
    ],
    ['too many tenderer representatives', { committeeSize: 7, tendererRepresentatives: 3 }, 'tendererRepresentatives'],
    [
      'a window ending before it starts',
      { evaluationStartsAt: inDays(5, 9), evaluationEndsAt: inDays(5, 1) },
      'evaluationEndsAt',
    ],
    ['no bidders', { bidders: [] }, 'bidders'],
    ['an unknown host platform', { hostPlatformId: '999999' }, 'hostPlatformId'],
    ['an empty name', { name: '   ' }, 'name'],
    [
      'a window in the past',
      { evaluationStartsAt: '2020-01-01T01:00:00+08:00', evaluationEndsAt: '2020-01-01T09:00:00+08:00' },
      'evaluationStartsAt',
    ],
  ];
  it.each(cases)(
    'refuses %s with BAD_USER_INPUT naming the field, writing nothing',
    async (_name, overrides, field) => {
      const before = await countProjects();
      const identity = overrides.hostPlatformId === '999999' ? as.agency(AGENCY) : as.agency(AGENCY);
      const response = await t.graphql(identity, SUBMIT, { input: submission(overrides) });
      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(response.errors?.[0].message).toContain(field);
      expect(await countProjects()).toBe(before);
    },
  );

  it('refuses a duplicate project code', async () => {
    const input = submission();
    await t.graphql(as.agency(AGENCY), SUBMIT, { input });
    const response = await t.graphql(as.agency(AGENCY), SUBMIT, { input });
    expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    expect(response.errors?.[0].message).toMatch(/input.code: a project with code .* already exists/);
  });

  it('accepts Money as a JSON integer and refuses a negative or fractional one', async () => {
    const ok = await t.graphql(as.agency(AGENCY), SUBMIT, { input: submission({ budget: 9007199254740991 }) });
    expect(ok.errors).toBeUndefined();
    for (const budget of [-1, 1.5, '12.50', 'abc']) {
      const response = await t.graphql(as.agency(AGENCY), SUBMIT, { input: submission({ budget }) });
      expect(response.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
    }
  });
});

describe('trust', () => {
  it('refuses a request without a token', async () => {
    const response = await t.graphql(null, '{ platforms { id } }');
    expect(response.status).toBe(401);
    expect(response.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('refuses a request straight to a subgraph without a signature, with a wrong one, and with a stale one', async () => {
    const body = JSON.stringify({ query: '{ platforms { id } }' });
    const identity = { sub: 'x', role: 'PROVINCIAL_ADMIN', platform: '410000' } as const;
    const attempts: Record<string, string>[] = [
      {},
      signIdentity('not-the-secret', identity, body),
      signIdentity(t.config.HUB_INTERNAL_SECRET, identity, body, Date.now() - 10 * 60_000),
      signIdentity(
        t.config.HUB_INTERNAL_SECRET,
        identity,
        JSON.stringify({ query: '{ platform(id: "410000") { id } }' }),
      ),
    ];
    for (const headers of attempts) {
      const response = await fetch(t.hub.subgraphs.venues.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
      const json = (await response.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
      expect(json.data ?? null).toBeNull();
      expect(json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    const signed = await fetch(t.hub.subgraphs.venues.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signIdentity(t.config.HUB_INTERNAL_SECRET, identity, body) },
      body,
    });
    expect(((await signed.json()) as { data: { platforms: unknown[] } }).data.platforms).toHaveLength(29);
  });

  it('reports readiness of every subgraph', async () => {
    const response = await fetch(new URL('/readyz', t.hub.gateway.url));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      service: 'gateway',
      checks: { venues: true, experts: true, projects: true },
    });
  });

  it('answers /healthz and /readyz in the same shape on every subgraph as on the gateway', async () => {
    const gatewayHealth = await fetch(new URL('/healthz', t.hub.gateway.url));
    expect(await gatewayHealth.json()).toEqual({ status: 'ok', service: 'gateway' });
    for (const domain of ['venues', 'experts', 'projects'] as const) {
      const health = await fetch(new URL('/healthz', t.hub.subgraphs[domain].url));
      expect({ status: health.status, body: await health.json() }).toEqual({
        status: 200,
        body: { status: 'ok', service: domain },
      });
      const ready = await fetch(new URL('/readyz', t.hub.subgraphs[domain].url));
      expect({ status: ready.status, body: await ready.json() }).toEqual({
        status: 200,
        body: { status: 'ready', service: domain, checks: { database: true } },
      });
    }
  });

  it('keeps the subgraph error code through the gateway and hides internals', async () => {
    const response = await t.graphql(as.operator(), '{ experts(platformId: "411700") { totalCount } }');
    expect(response.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(JSON.stringify(response.errors)).not.toMatch(/stacktrace|at .*\.ts:/);
  });
});
