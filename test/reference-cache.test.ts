// The gateway's reference cache (gateway/reference-cache.ts): rooms, venues and platforms kept per entity, so a query
// asks the venues subgraph for room ids and the names come from memory. Checked here against a gateway without it, over
// the same subgraphs, with the venues subgraph's traffic recorded; and attacked with renames on another replica while
// reads run, since an entry must never outlive a write acknowledged before a read.
//
// Shown to fail with the check broken: with `resolve` in gateway/reference-cache.ts keeping every entry it finds (the
// stamps not compared), "answers a room renamed through another replica" failed on its first read (the old name).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildSchema, Kind, parse, visit, type FieldNode } from 'graphql';
import { startGateway, type RunningGateway } from '../gateway/server';
import { narrowOperation, referenceCache, REFERENCE_FIELDS } from '../gateway/reference-cache';
import { listenForChanges } from '../lib/change-feed';
import { createMetrics } from '../lib/metrics';
import { STORED_FIELDS } from '../gateway/cache-tags';
import { EVERYONE } from '../lib/access-rules';
import { TYPE_RIGHTS } from '../lib/authorization-matrix/types';
import { createLogger } from '../lib/logger';
import { readSupergraph } from '../schema/supergraph';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
let cached: RunningGateway;
let plain: RunningGateway;
let proxy: http.Server;
/** What the cached gateway sent the venues subgraph: each body's operation name and query. */
const sent: { operationName?: string; query: string; variables?: Record<string, unknown> }[] = [];

const DAY = { from: '2027-05-10T00:00:00+08:00', to: '2027-05-11T00:00:00+08:00' };
const PLATFORMS = [ZHUMADIAN, '411721', '410100'];
const BOARD = `query Board($from: DateTime!, $to: DateTime!) {
  schedule(from: $from, to: $to) { id role seats status room { name venue { name platform { name } } } project { code status } }
}`;
/** Aliases, `__typename`, an inline fragment, a room reached through a project (an `_entities` fetch to venues). */
const THROUGH_PROJECT = `query ThroughProject($id: ID!) {
  project(id: $id) { code venueBookings { id r: room { __typename id label: name ... on EvaluationRoom { seats } venue { __typename p: platform { id nameEn level } } } } }
}`;
/** A field the cache does not keep (free seats change with every booking): asked as planned. */
const FREE_SEATS = `query Free($from: DateTime!, $to: DateTime!) {
  schedule(from: $from, to: $to) { id room { name freeSeats(from: $from, to: $to) } }
}`;
const UPDATE_ROOM = `mutation($r: ID!, $name: String!) { updateRoom(roomId: $r, patch: { name: $name }) { id name } }`;

async function ask(
  url: string,
  caller: Parameters<TestHub['token']>[0],
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<{ data?: unknown; errors?: unknown[] }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await t.token(caller)}`, ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: unknown; errors?: unknown[] };
}

/** The selection each `room` field of a sent query asks for, printed plainly ("id", "name venue { … }"). */
function roomSelections(query: string): string[] {
  const found: string[] = [];
  visit(parse(query), {
    Field(node: FieldNode) {
      if (node.name.value !== 'room' && node.alias?.value !== 'r') return;
      found.push(
        (node.selectionSet?.selections ?? [])
          .map((selection) => (selection.kind === Kind.FIELD ? selection.name.value : selection.kind))
          .join(' '),
      );
    },
  });
  return found;
}

let roomIds: string[] = [];
let projectId = '';

beforeAll(async () => {
  t = await startTestHub({ jobs: false, overrides: { RECONCILE_UPCOMING_CRON: 'off', RECONCILE_NIGHTLY_CRON: 'off' } });
  const { venues, experts, projects } = t.hub.subgraphs;
  // A recorder in front of the venues subgraph, for the cached gateway only.
  proxy = http.createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        sent.push(JSON.parse(body.toString('utf8')) as (typeof sent)[number]);
      } catch {
        // Not a GraphQL body: forwarded all the same.
      }
      const forward = http.request(
        venues.url,
        { method: incoming.method, headers: { ...incoming.headers, host: new URL(venues.url).host } },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.on('error', () => outgoing.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
  const logger = createLogger('test', 'silent');
  // Neither keeps whole answers, so every read below reaches the subgraphs.
  cached = await startGateway({
    config: { ...t.config, HUB_RESPONSE_CACHE_MB: 0 },
    logger,
    port: 0,
    subgraphUrls: { venues: proxyUrl, experts: experts.url, projects: projects.url },
  });
  plain = await startGateway({
    config: { ...t.config, HUB_RESPONSE_CACHE_MB: 0, HUB_REFERENCE_CACHE_ENTRIES: 0 },
    logger,
    port: 0,
    subgraphUrls: { venues: venues.url, experts: experts.url, projects: projects.url },
  });
  // Bookings on DAY in rooms of three platforms, several per room and per project.
  const rooms = await t.databases.venues.db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .select(['room.id'])
    .where('venue.platform_id', 'in', PLATFORMS)
    .orderBy('room.id')
    .execute();
  roomIds = rooms.map((room) => room.id);
  const projectRows = await t.databases.projects.db
    .selectFrom('project')
    .select(['id', 'host_platform_id'])
    .orderBy('id')
    .limit(4)
    .execute();
  projectId = projectRows[0].id;
  await t.databases.venues.db
    .insertInto('booking')
    .values(
      Array.from({ length: 30 }, (_, index) => {
        const project = projectRows[index % projectRows.length];
        return {
          id: `bk-ref-${index}`,
          arrangement_id: `arr-ref-${index}`,
          room_id: roomIds[index % roomIds.length],
          project_id: project.id,
          host_platform_id: project.host_platform_id,
          role: 'SECONDARY' as const,
          seats: 1,
          starts_at: new Date('2027-05-10T01:00:00Z'),
          ends_at: new Date('2027-05-10T02:00:00Z'),
          status: 'HELD' as const,
          hold_expires_at: new Date('2027-05-09T00:00:00Z'),
          reason: null,
        };
      }),
    )
    .execute();
});

afterAll(async () => {
  await cached?.stop();
  await plain?.stop();
  await new Promise((resolve) => proxy?.close(resolve));
  await t?.stop();
});

jest.setTimeout(60_000);

it('answers the board as the planned fetches do, asking the venues subgraph for room ids and filling each room once', async () => {
  const fills = () => sent.filter((body) => body.operationName === 'HubReferenceFill').length;
  for (const caller of [as.admin, as.operator(ZHUMADIAN), as.partner('411721')]) {
    sent.length = 0;
    const expected = await ask(plain.url, caller, BOARD, DAY);
    expect((expected.data as { schedule: unknown[] }).schedule.length).toBeGreaterThan(0);
    const first = await ask(cached.url, caller, BOARD, DAY);
    // The first caller's read fills the rooms it met, in one fetch; later callers' rooms are all kept by then.
    expect(fills()).toBe(caller === as.admin ? 1 : 0);
    t.statements.length = 0;
    const second = await ask(cached.url, caller, BOARD, DAY);
    expect(fills()).toBe(caller === as.admin ? 1 : 0);
    // The admin's schedule is not narrowed to a platform's rooms: asked for room ids only, nothing reads the room table.
    if (caller === as.admin) expect(t.statements.filter((statement) => /"room"/.test(statement.sql))).toEqual([]);
    expect(first).toEqual(expected);
    expect(second).toEqual(expected);
    const schedules = sent.filter((body) => body.query.includes('schedule'));
    expect(schedules).toHaveLength(2);
    for (const body of schedules) expect(roomSelections(body.query)).toEqual(['id']);
  }
  expect((await ask(plain.url, as.admin, BOARD, DAY)).data).toMatchObject({
    schedule: expect.arrayContaining([
      expect.objectContaining({ room: expect.objectContaining({ name: expect.any(String) }) }),
    ]),
  });
});

it('rebuilds aliases, __typename and fragments, also for rooms reached through an entity fetch', async () => {
  sent.length = 0;
  const expected = await ask(plain.url, as.admin, THROUGH_PROJECT, { id: projectId });
  const answer = await ask(cached.url, as.admin, THROUGH_PROJECT, { id: projectId });
  expect(answer).toEqual(expected);
  expect(JSON.stringify(expected)).toContain('"label"');
  const entityFetch = sent.find(
    (body) => body.query.includes('_entities') && body.operationName !== 'HubReferenceFill',
  );
  expect(entityFetch && roomSelections(entityFetch.query)).toEqual(['id']);
});

it("asks for each entity once: the host platform of each booking's project", async () => {
  sent.length = 0;
  // schedule (venues) → project (projects) → hostPlatform, resolved back in venues by one representation per booking.
  const query = `query Hosts($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { id project { code hostPlatform { name } } } }`;
  const answer = await ask(cached.url, as.admin, query, DAY);
  expect(answer).toEqual(await ask(plain.url, as.admin, query, DAY));
  const bookings = (answer.data as { schedule: { project: { hostPlatform: { name: string } } }[] }).schedule;
  expect(bookings.length).toBeGreaterThanOrEqual(30);
  expect(bookings.every((booking) => booking.project.hostPlatform.name.length > 0)).toBe(true);
  const entities = sent.filter((body) => body.query.includes('_entities') && body.operationName !== 'HubReferenceFill');
  expect(entities).toHaveLength(1);
  const representations = entities[0].variables!.representations as unknown[];
  // 30 bookings of 4 projects: at most 4 host platforms, each asked for once.
  expect(representations).toHaveLength(new Set(representations.map((each) => JSON.stringify(each))).size);
  expect(representations.length).toBeGreaterThan(0);
  expect(representations.length).toBeLessThanOrEqual(4);
});

it('sends what it does not keep as planned, and so does a request with Cache-Control: no-cache', async () => {
  sent.length = 0;
  expect(await ask(cached.url, as.admin, FREE_SEATS, DAY)).toEqual(await ask(plain.url, as.admin, FREE_SEATS, DAY));
  expect(roomSelections(sent[0].query)).toEqual(['name freeSeats']);
  sent.length = 0;
  await ask(cached.url, as.admin, BOARD, DAY, { 'cache-control': 'no-cache' });
  expect(sent).toHaveLength(1);
  expect(roomSelections(sent[0].query)).toEqual(['name venue']);
});

it('answers a room renamed through another replica at once, while renames and reads run together', async () => {
  const room = roomIds[0];
  const nameIn = (answer: { data?: unknown }) =>
    (answer.data as { schedule: { id: string; room: { name: string } }[] }).schedule.find(
      (booking) => booking.id === 'bk-ref-0',
    )?.room.name;
  // Kept first, so that a stale entry would be there to serve.
  expect(nameIn(await ask(cached.url, as.admin, BOARD, DAY))).toBeDefined();
  for (let round = 1; round <= 8; round++) {
    const name = `复核室-${round}`;
    const renamed = await ask(t.hub.gateway.url, as.admin, UPDATE_ROOM, { r: room, name });
    expect(renamed.errors).toBeUndefined();
    // Every read begun after the rename's answer sees it, or the one that races it.
    const racing = `复核室-${round}b`;
    const [reads, race] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => ask(cached.url, as.admin, BOARD, DAY))),
      ask(t.hub.gateway.url, as.admin, UPDATE_ROOM, { r: room, name: racing }),
    ]);
    expect(race.errors).toBeUndefined();
    for (const read of reads) expect([name, racing]).toContain(nameIn(read));
    expect(nameIn(await ask(cached.url, as.admin, BOARD, DAY))).toBe(racing);
  }
});

it('keeps only fields stored with their object (so writes stamp them) that every caller may read', () => {
  for (const [type, { scalars, refs }] of Object.entries(REFERENCE_FIELDS))
    for (const field of [...scalars, ...Object.keys(refs)]) {
      expect({ field: `${type}.${field}`, stored: STORED_FIELDS[type]?.includes(field) }).toEqual({
        field: `${type}.${field}`,
        stored: true,
      });
      expect({ field: `${type}.${field}`, rule: TYPE_RIGHTS[`${type}.${field}`] }).toEqual({
        field: `${type}.${field}`,
        rule: EVERYONE,
      });
    }
});

describe('narrowOperation', () => {
  // The supergraph's schema holds every type and field the subgraphs' fetches name.
  const schema = buildSchema(readSupergraph(), { assumeValidSDL: true });
  const narrowed = (query: string) => narrowOperation(schema, query)?.query.replace(/\s+/g, ' ');

  it('narrows a reference selection to its id, nested in lists and in fragments on the same type', () => {
    expect(
      narrowed('query A { schedule(from: "x", to: "y") { id ... on VenueBooking { room { name venue { name } } } } }'),
    ).toBe('query A { schedule(from: "x", to: "y") { id ... on VenueBooking { room { id } } } }');
  });

  it('leaves alone what it cannot rebuild exactly', () => {
    const unchanged = [
      // One key selected twice: the subgraph would merge the two.
      'query A { schedule(from: "x", to: "y") { room { name } room { seats } } }',
      // A field not kept, a field with a directive, a field with arguments below a kept type.
      'query A { schedule(from: "x", to: "y") { room { name retired } } }',
      'query A($s: Boolean!) { schedule(from: "x", to: "y") { room { name @include(if: $s) } } }',
      'query A { schedule(from: "x", to: "y") { room { bookings(from: "x", to: "y") { id } } } }',
      // Named fragments, mutations, several operations.
      'query A { schedule(from: "x", to: "y") { room { ...R } } } fragment R on EvaluationRoom { name }',
      'mutation A { updateRoom(roomId: "r", patch: { name: "n" }) { id venue { name } } }',
      'query A { platforms { id } } query B { platforms { id } }',
    ];
    for (const query of unchanged) expect(narrowed(query)).toBeUndefined();
  });

  it('narrows entity fetches inside their fragments only', () => {
    expect(
      narrowed(
        'query E($representations: [_Any!]!) { _entities(representations: $representations) { ... on VenueBooking { room { name } } ... on Project { code } } }',
      ),
    ).toBe(
      'query E($representations: [_Any!]!) { _entities(representations: $representations) { ... on VenueBooking { room { id } } ... on Project { code } } }',
    );
  });
});

describe('referenceCache', () => {
  it('sends the operation as planned when a fill is refused, fills again after a stamp, and counts each outcome', async () => {
    // The change feed on the test's own Redis; the venues subgraph played by `send`, which records what it is asked.
    const feed = listenForChanges(t.config.REDIS_URL, t.config.HUB_QUEUE_PREFIX, createLogger('test', 'silent'));
    try {
      expect(await feed.whenListening(5000)).toBe(true);
      const metrics = createMetrics('gateway');
      const cache = referenceCache(100, feed, metrics);
      cache.useSchema(buildSchema(readSupergraph(), { assumeValidSDL: true }));
      const QUERY = 'query A { schedule(from: "x", to: "y") { id room { name } } }';
      let refuse = true;
      const asked: string[] = [];
      const room = (id: string) => ({
        id,
        name: `room ${id}`,
        seats: 5,
        videoTerminal: true,
        venue: { id: 'v1', name: 'V', platform: { id: 'p1', name: 'P', nameEn: 'P', level: 'CITY' } },
      });
      const send = async (query: string, variables: Record<string, unknown> | undefined, operationName?: string) => {
        if (operationName === 'HubReferenceFill') {
          asked.push('fill');
          const representations = variables!.representations as { id: string }[];
          return refuse
            ? { data: null, errors: [{ message: 'refused' }] }
            : { data: { _entities: representations.map((representation) => room(representation.id)) } };
        }
        const planned = query.includes('name');
        asked.push(planned ? 'planned' : 'narrowed');
        return { data: { schedule: [{ id: 'b1', room: planned ? { name: 'as planned' } : { id: 'r1' } }] } };
      };
      const outcomes = async () =>
        Object.fromEntries(
          (await metrics.referenceCache.get()).values.map((value) => [value.labels.outcome, value.value]),
        );
      const nameOf = (answer: { data?: Record<string, unknown> | null }) =>
        (answer.data!.schedule as { room: { name: string } }[])[0].room;

      expect(nameOf(await cache.fetch(QUERY, {}, send, false))).toEqual({ name: 'as planned' });
      expect(asked).toEqual(['narrowed', 'fill', 'planned']);
      refuse = false;
      asked.length = 0;
      expect(nameOf(await cache.fetch(QUERY, {}, send, false))).toEqual({ name: 'room r1' });
      expect(nameOf(await cache.fetch(QUERY, {}, send, false))).toEqual({ name: 'room r1' });
      expect(asked).toEqual(['narrowed', 'fill', 'narrowed']);
      // A write that names the room ends its entry: the next fetch fills it again.
      await feed.announce('test', ['EvaluationRoom:r1']);
      asked.length = 0;
      await cache.fetch(QUERY, {}, send, false);
      expect(asked).toEqual(['narrowed', 'fill']);
      // A client's no-cache: the operation as planned, nothing counted.
      asked.length = 0;
      expect(nameOf(await cache.fetch(QUERY, {}, send, true))).toEqual({ name: 'as planned' });
      expect(asked).toEqual(['planned']);
      expect(await outcomes()).toEqual({ fallback: 1, fill: 2, hit: 1 });
    } finally {
      await feed.close();
    }
  });
});
