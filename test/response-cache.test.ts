// The gateway's response cache: repeated queries of one caller answered from memory, never one caller's answer to
// another (attacked with many callers at once), never a sealed field, an error or a mutation, and no answer from before
// a change that a mutation or a job announced.
import IORedis from 'ioredis';
import { announceChange, changesChannel, listenForChanges } from '../lib/change-feed';
import { createLogger } from '../lib/logger';
import type { Identity } from '../lib/identity';
import { ARRANGE, filedProject } from './support/booking';
import { KEY_ALIAS } from '../gateway/cache-keys';
import { as, eventually, inDays, jobsSettled, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { agency as workflowAgency, submit } from './support/workflow';

type Caller = Omit<Identity, 'sub'> & { sub?: string };
interface Answer {
  status: number;
  age: string | null;
  body: { data?: unknown; errors?: { extensions?: { code?: string } }[] };
  /** Requests the gateway sent to subgraphs while answering (none for an answer from the cache). */
  fetches: number;
}

let t: TestHub;
beforeAll(async () => {
  // No scheduled reconciliation: it is a client of the gateway too, and would add subgraph fetches of its own.
  t = await startTestHub({ overrides: { RECONCILE_UPCOMING_CRON: 'off', RECONCILE_NIGHTLY_CRON: 'off' } });
});
afterAll(async () => {
  await t.stop();
});

const DAY = { from: '2027-04-05T00:00:00+08:00', to: '2027-04-06T00:00:00+08:00' };
const SCHEDULE = `query Schedule($from: DateTime!, $to: DateTime!) {
  schedule(from: $from, to: $to) { id status seats room { name venue { platform { id name } } } project { code status } }
}`;
/** Platforms change rarely: their answer holds for 60 s (the longest max-age of the API). */
const PLATFORMS = 'query Platforms { platforms { id name } }';
const PROJECTS =
  'query Projects { projects(first: 50) { totalCount edges { node { id code status hostPlatform { name } } } } }';

/** How many requests the gateway has sent to subgraphs, from its own metrics. */
async function subgraphFetches(): Promise<number> {
  const text = await (await fetch(t.hub.gateway.metricsUrl!)).text();
  return [...text.matchAll(/^hub_subgraph_fetch_duration_seconds_count\{[^}]*\} (\d+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

/** POSTs as the caller, outside the harness's client, to see the `age` header and send request headers. */
async function ask(
  caller: Caller,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<Answer> {
  const before = await subgraphFetches();
  const response = await fetch(t.hub.gateway.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(caller)}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Answer['body'];
  return {
    status: response.status,
    age: response.headers.get('age'),
    body,
    fetches: (await subgraphFetches()) - before,
  };
}

/**
 * An answer as it can be compared between two askings. A refused non-null field nulls its list, and which of the list's
 * refused items is named first depends on the order the subgraph finished them in (refusals are never cached, so each
 * is computed afresh): list positions in error paths are left out, and the errors compared as a sorted list.
 */
function comparable(body: Answer['body']): unknown {
  const errors = (body.errors as Array<{ path?: Array<string | number> }> | undefined)?.map((error) => ({
    ...error,
    path: error.path?.map((segment) => (typeof segment === 'number' ? '#' : segment)),
  }));
  return { ...body, ...(errors ? { errors: errors.map((error) => JSON.stringify(error)).sort() } : {}) };
}

/** Confirmed bookings on DAY in rooms of several platforms, for projects of several hosts: each caller's schedule differs. */
async function bookTheDay(): Promise<void> {
  const rooms = await t.databases.venues.db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .select(['room.id', 'venue.platform_id'])
    .orderBy('room.id')
    .execute();
  const projects = await t.databases.projects.db
    .selectFrom('project')
    .select(['id', 'host_platform_id'])
    .orderBy('id')
    .execute();
  const rows = rooms.map((room, index) => {
    const project = projects[index % projects.length];
    return {
      id: `bk-cache-${room.id}`,
      arrangement_id: `arr-cache-${room.id}`,
      room_id: room.id,
      project_id: project.id,
      host_platform_id: project.host_platform_id,
      role: 'SECONDARY' as const,
      seats: 1,
      starts_at: new Date('2027-04-05T01:00:00Z'),
      ends_at: new Date('2027-04-05T04:00:00Z'),
      status: 'CONFIRMED' as const,
      hold_expires_at: null,
      reason: null,
    };
  });
  await t.databases.venues.db.insertInto('booking').values(rows).execute();
}

beforeAll(bookTheDay);

it('answers a repeated query of one caller from the cache, with its age, without asking the subgraphs', async () => {
  const caller = { ...as.admin, sub: 'cache-repeat' };
  const first = await ask(caller, SCHEDULE, DAY);
  expect(first.body.errors).toBeUndefined();
  expect(first.age).toBeNull();
  expect(first.fetches).toBeGreaterThan(0);
  const second = await ask(caller, SCHEDULE, DAY);
  expect(second.age).toMatch(/^\d+$/);
  expect(second.fetches).toBe(0);
  expect(second.body).toEqual(first.body);

  // Another subject with the very same role and platform is another caller: its first answer is its own.
  const colleague = await ask({ ...as.admin, sub: 'cache-repeat-colleague' }, SCHEDULE, DAY);
  expect(colleague.age).toBeNull();
  expect(colleague.fetches).toBeGreaterThan(0);

  // Cache-Control: no-cache asks for a fresh answer.
  const fresh = await ask(caller, SCHEDULE, DAY, { 'cache-control': 'no-cache' });
  expect(fresh.age).toBeNull();
  expect(fresh.fetches).toBeGreaterThan(0);
  expect(fresh.body).toEqual(first.body);
});

it('never answers one caller with what another may see, with all of them asking at once', async () => {
  const callers: Caller[] = [
    { ...as.admin, sub: 'cache-attack-admin' },
    { ...as.operator(ZHUMADIAN), sub: 'cache-attack-op-zmd' },
    { ...as.operator('410100'), sub: 'cache-attack-op-zz' },
    { ...as.partner('410100'), sub: 'cache-attack-partner-zz' },
    { ...as.partner('411721'), sub: 'cache-attack-partner-xp' },
    { ...as.supervisor('HOUSING_AND_CONSTRUCTION'), sub: 'cache-attack-supervisor' },
    { ...as.agency('驻马店示例招标代理有限公司'), sub: 'cache-attack-agency' },
    { ...as.expert('exp-00001'), sub: 'cache-attack-expert' },
  ];
  const queries = [
    { query: SCHEDULE, variables: DAY },
    { query: PROJECTS, variables: {} },
  ];
  // Each caller's own answer, asked afresh.
  const expected = new Map<string, unknown>();
  for (const [c, caller] of callers.entries()) {
    for (const [q, { query, variables }] of queries.entries())
      expected.set(`${c}:${q}`, (await ask(caller, query, variables, { 'cache-control': 'no-cache' })).body);
  }
  // The answers differ from caller to caller, so an answer that crossed over would be caught.
  const schedules = callers.map((_, c) => JSON.stringify(expected.get(`${c}:0`)));
  const projectLists = callers.map((_, c) => JSON.stringify(expected.get(`${c}:1`)));
  expect(new Set(schedules).size).toBeGreaterThanOrEqual(5);
  expect(new Set(projectLists).size).toBeGreaterThanOrEqual(5);

  const requests = callers.flatMap((caller, c) =>
    queries.flatMap((query, q) => Array.from({ length: 12 }, () => ({ caller, c, q, ...query }))),
  );
  // Interleaved: callers and queries mixed in one burst, so entries are written and read by everybody at once.
  requests.sort((a, b) => ((a.c * 7 + a.q * 3) % 5) - ((b.c * 7 + b.q * 3) % 5));
  const answers = await Promise.all(
    requests.map(async (request) => ({ request, answer: await ask(request.caller, request.query, request.variables) })),
  );
  let fromCache = 0;
  for (const { request, answer } of answers) {
    expect({ caller: request.caller.sub, query: request.q, body: comparable(answer.body) }).toEqual({
      caller: request.caller.sub,
      query: request.q,
      body: comparable(expected.get(`${request.c}:${request.q}`) as Answer['body']),
    });
    if (answer.age !== null) fromCache++;
  }
  // The cache was used (else this proved nothing): refusals are never cached, everything else mostly was.
  const refused = answers.filter(({ answer }) => answer.body.errors).length;
  expect(fromCache).toBeGreaterThan((answers.length - refused) / 2);
  console.info(
    `response cache attack: ${answers.length} concurrent queries by ${callers.length} callers, ${fromCache} from the cache, ${refused} refused, 0 crossed`,
  );
});

it('never keeps a sealed field or a refusal', async () => {
  const admin = { ...as.admin, sub: 'cache-sealed' };
  const POOL = 'query Pool { experts(platformId: "411700", first: 5) { edges { node { code specialties } } } }';
  const NAMED = 'query Named { experts(platformId: "411700", first: 5) { edges { node { code name } } } }';
  await ask(admin, POOL);
  expect((await ask(admin, POOL)).age).not.toBeNull();
  for (let round = 0; round < 2; round++) {
    const named = await ask(admin, NAMED);
    expect(named.body.errors).toBeUndefined();
    expect(named.age).toBeNull();
    expect(named.fetches).toBeGreaterThan(0);
  }
  // An agency may not read schedules: the refusal is answered afresh each time.
  const agency = { ...as.agency('驻马店示例招标代理有限公司'), sub: 'cache-refused' };
  for (let round = 0; round < 2; round++) {
    const refused = await ask(agency, SCHEDULE, DAY);
    expect(refused.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    expect(refused.age).toBeNull();
  }
});

it("shows every caller a mutation's change at once", async () => {
  const agency: Caller = workflowAgency;
  const admin = { ...as.admin, sub: 'cache-mutation-admin' };
  const before = (await ask(agency, PROJECTS)).body as { data: { projects: { totalCount: number } } };
  await ask(admin, PROJECTS);
  expect((await ask(agency, PROJECTS)).age).not.toBeNull();
  expect((await ask(admin, PROJECTS)).age).not.toBeNull();

  // 申请提交 through the gateway, by this very agency.
  const submitted = await submit(t, { startsAt: inDays(50), endsAt: inDays(50, 4) });

  for (const caller of [agency, admin]) {
    const after = await ask(caller, PROJECTS);
    expect(after.age).toBeNull();
    const list = (after.body as { data: { projects: { totalCount: number; edges: { node: { id: string } }[] } } }).data
      .projects;
    expect(list.edges.map((edge) => edge.node.id)).toContain(submitted);
  }
  expect(((await ask(agency, PROJECTS)).body as typeof before).data.projects.totalCount).toBe(
    before.data.projects.totalCount + 1,
  );
});

it("drops what it cached once a job's change is announced, long before the answers' max-age", async () => {
  const listener = new IORedis(t.config.REDIS_URL);
  const heard: string[] = [];
  await listener.subscribe(changesChannel(t.config.HUB_QUEUE_PREFIX));
  listener.on('message', (_channel: string, source: string) => heard.push(source));
  try {
    // A job run announces itself: the booking saga of an arrangement with an auto-confirming county room.
    const projectId = await filedProject(t, { startsAt: inDays(40), endsAt: inDays(40, 4) });
    const operator = { ...as.operator(ZHUMADIAN), sub: 'cache-job-operator' };
    const arranged = await ask(operator, ARRANGE, {
      projectId,
      mainRoomId: 'room-411700-1',
      secondary: [{ roomId: 'room-411721-1', seats: 1 }],
    });
    expect(arranged.body.errors).toBeUndefined();
    await eventually(
      async () => (heard.includes('venue-bookings') ? true : undefined),
      15_000,
      'a venue-bookings job to announce its change',
    );
    const STATUS = 'query Status($id: ID!) { project(id: $id) { status venueBookings { status } } }';
    const confirmed = await eventually(
      async () => {
        const answer = await ask(operator, STATUS, { id: projectId });
        return (answer.body.data as { project: { status: string } }).project.status === 'VENUES_CONFIRMED'
          ? answer
          : undefined;
      },
      15_000,
      'the project, read through the cache, to show its confirmed venues',
    );
    expect(confirmed.body.errors).toBeUndefined();

    // Any announcement, from any process of this hub, ends every entry. Platforms hold for 60 s, longer than this test
    // may run (its timeout), so an answer computed afresh after the announcement was not dropped for its age.
    const caller = { ...as.admin, sub: 'cache-announce' };
    await ask(caller, PLATFORMS);
    const cached = await ask(caller, PLATFORMS);
    expect(cached.age).not.toBeNull();
    const publisher = new IORedis(t.config.REDIS_URL);
    await announceChange(publisher, t.config.HUB_QUEUE_PREFIX, 'test');
    publisher.disconnect();
    const fresh = await eventually(
      async () => {
        const answer = await ask(caller, PLATFORMS);
        return answer.age === null ? answer : undefined;
      },
      15_000,
      'an answer computed after the announcement',
    );
    expect(fresh.fetches).toBeGreaterThan(0);
    expect(fresh.body).toEqual(cached.body);
  } finally {
    listener.disconnect();
  }
});

it("ends the schedules of the days a job's booking writes touch, and keeps the others", async () => {
  // The China day of the evaluation (01:00 to 05:00 UTC: 09:00 to 13:00 at UTC+8) and a day a week earlier.
  const startsAt = inDays(47);
  const dayOf = (at: Date) => {
    const from = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()) - 8 * 3_600_000);
    return { from: from.toISOString(), to: new Date(from.getTime() + 86_400_000).toISOString() };
  };
  const SCHEDULE = 'query Day($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id status } }';
  const admin = { ...as.admin, sub: 'cache-days-admin' };
  const [day, other] = [dayOf(startsAt), dayOf(inDays(40))];
  const projectId = await filedProject(t, { startsAt, endsAt: inDays(47, 5) });
  for (const window of [day, other]) {
    await ask(admin, SCHEDULE, window);
    expect((await ask(admin, SCHEDULE, window)).age).not.toBeNull();
  }
  const before = (await ask(admin, SCHEDULE, day)).body as { data: { schedule: unknown[] } };

  // The saga's jobs hold and confirm the bookings; nothing but their notes says which days they are on.
  const operator = { ...as.operator(ZHUMADIAN), sub: 'cache-days-operator' };
  const arranged = await ask(operator, ARRANGE, {
    projectId,
    mainRoomId: 'room-411700-1',
    secondary: [{ roomId: 'room-411721-1', seats: 1 }],
  });
  expect(arranged.body.errors).toBeUndefined();
  // Once the jobs are done (each stamps what it noted before it counts as done), the next read must list them: the
  // cached answer (30 s max-age) is ended by the notes, not by its age.
  await jobsSettled(t);
  const after = await ask(admin, SCHEDULE, day);
  expect(after.body.errors).toBeUndefined();
  expect((after.body as { data: { schedule: unknown[] } }).data.schedule).toHaveLength(before.data.schedule.length + 2);
  // The other day's answer was never ended: still the cached one.
  expect((await ask(admin, SCHEDULE, other)).age).not.toBeNull();
});

it('ends a cached project (asked for without its id) when a job moves it along, though no mutation named it', async () => {
  const projectId = await filedProject(t, { startsAt: inDays(52), endsAt: inDays(52, 5) });
  const operator = { ...as.operator(ZHUMADIAN), sub: 'cache-notes-operator' };
  // Zhengzhou's room waits for its operator's confirmation.
  const arranged = await ask(operator, ARRANGE, {
    projectId,
    mainRoomId: 'room-411700-1',
    secondary: [{ roomId: 'room-410100-1', seats: 1 }],
  });
  expect(arranged.body.errors).toBeUndefined();
  await jobsSettled(t);
  const admin = { ...as.admin, sub: 'cache-notes-admin' };
  const STATUS = 'query Status($id: ID!) { project(id: $id) { status expertDraw { status } } }';
  const before = await ask(admin, STATUS, { id: projectId });
  expect((await ask(admin, STATUS, { id: projectId })).age).not.toBeNull();
  // The id the cache asked for to tag the answer never reaches the client.
  expect(JSON.stringify(before.body)).not.toContain(KEY_ALIAS);

  // The partner confirms (a mutation about its booking only); the saga's job then moves the project along, and only
  // the job's notes say which project changed.
  const held = await t.databases.venues.db
    .selectFrom('booking')
    .select('id')
    .where('project_id', '=', projectId)
    .where('status', '=', 'HELD')
    .execute();
  expect(held).toHaveLength(1);
  const partner = { ...as.operator('410100'), sub: 'cache-notes-partner' };
  const confirmed = await ask(partner, 'mutation($id: ID!) { confirmBooking(bookingId: $id) { id status } }', {
    id: held[0].id,
  });
  expect(confirmed.body.errors).toBeUndefined();
  await jobsSettled(t);
  const statusOf = (answer: { body: unknown }) =>
    (answer.body as { data: { project: { status: string } } }).data.project.status;
  expect(statusOf(before)).not.toBe('VENUES_CONFIRMED');
  expect(statusOf(await ask(admin, STATUS, { id: projectId }))).toBe('VENUES_CONFIRMED');
});

it('says when its change feed is heard, which the gateway waits for at start: at once with Redis up, not with none', async () => {
  const logger = createLogger('test', 'silent');
  const up = listenForChanges(t.config.REDIS_URL, t.config.HUB_QUEUE_PREFIX, logger);
  const away = listenForChanges('redis://127.0.0.1:1', t.config.HUB_QUEUE_PREFIX, logger);
  try {
    expect(up.listening).toBe(false);
    expect(await up.whenListening(5000)).toBe(true);
    expect(up.listening).toBe(true);
    expect(await away.whenListening(300)).toBe(false);
    expect(away.listening).toBe(false);
  } finally {
    await up.close();
    await away.close();
  }
});
