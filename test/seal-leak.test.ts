// Sealed data stays sealed beyond the resolvers: a full draw with every log line captured at debug level, then the
// logs, error messages, timelines, archive and OCDS exports, webhook deliveries, every venues and projects table and
// every Redis key of the run are searched for the drawn experts' names and phones (and, where an agency or a partner
// reads, their ids).
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import IORedis from 'ioredis';
import { as, eventually, startTestHub, type TestHub } from './support/hub';
import { AGENCY, DRAW, drawSettled, feeAdvancedProject, HOST, roomsOf, seatsOf } from './support/expert-draw';

const logLines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

let t: TestHub;
let projectId = '';
let drawn: { id: string; name: string; phone: string; employer: string }[] = [];
const RESPOND = 'mutation($seatId: ID!) { respondToInvitation(seatId: $seatId, accept: true) { id status } }';

beforeAll(async () => {
  t = await startTestHub({ overrides: { LOG_LEVEL: 'debug', HUB_RATE_LIMIT: '0' }, logDestination: capture });
  const [room] = await roomsOf(t, HOST);
  projectId = await feeAdvancedProject(t, {
    mode: 'LOCAL',
    bookings: [{ roomId: room.id, role: 'MAIN', seats: room.seats }],
  });
  const requested = await t.graphql(as.operator(HOST), DRAW, {
    projectId,
    seats: [{ roomId: room.id, specialty: 'CIVIL_ENGINEERING', count: 4 }],
  });
  expect(requested.errors).toBeUndefined();
  const draw = await drawSettled(t, projectId);
  const seats = (await seatsOf(t, draw.id)).filter((seat) => seat.expert_id !== null && seat.status === 'INVITED');
  expect(seats).toHaveLength(4);
  for (const seat of seats) {
    const answered = await t.graphql(as.expert(seat.expert_id!), RESPOND, { seatId: seat.id });
    expect(answered.errors).toBeUndefined();
  }
  await eventually(
    async () => {
      const row = await t.databases.projects.db
        .selectFrom('project')
        .select('status')
        .where('id', '=', projectId)
        .executeTakeFirstOrThrow();
      return row.status === 'COMMITTEE_CONFIRMED' ? true : undefined;
    },
    20_000,
    'the committee to be confirmed',
  );
  const ids = seats.map((seat) => seat.expert_id!);
  drawn = await t.databases.experts.db
    .selectFrom('expert')
    .select(['id', 'name', 'phone', 'employer'])
    .where('id', 'in', ids)
    .execute();
  expect(drawn).toHaveLength(4);
}, 90_000);
afterAll(async () => {
  await t?.stop();
});

/** The sealed values found in a text: names and phones always; ids too when `withIds` (what an agency or partner reads). */
function leaks(text: string, withIds = false): string[] {
  return drawn.flatMap((expert) =>
    [expert.name, expert.phone, ...(withIds ? [expert.id] : [])].filter((value) => text.includes(value)),
  );
}

describe('outside the resolvers, the committee stays sealed', () => {
  it('writes no drawn expert name or phone to the logs, even at debug level', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(leaks(logLines.join(''))).toEqual([]);
    process.stdout.write(`seal leak: ${logLines.length} log lines searched for ${drawn.length} drawn experts\n`);
  });

  it('keeps names, phones and ids out of what an agency and a partner read: project, timeline, draw, archive exports', async () => {
    const query = `query($id: ID!) {
      project(id: $id) { code status timeline { at kind actor detail } venueBookings { id status }
        expertDraw { id status seedCommitment seed failureReason seats { id status specialty round expert { id name employer } } } }
      archiveBundle(projectId: $id) archiveReleasePackage(projectId: $id) verifyProjectArchive(projectId: $id) { intact entries } }`;
    type Read = {
      project: {
        status: string;
        timeline: unknown[];
        expertDraw: { seedCommitment: string; seats: { id: string }[] } | null;
      } | null;
      archiveBundle: string;
    };
    // The agency reads its project: the answer must be the project itself, or a search of nulls would pass (issue 16).
    const byAgency = await t.graphql<Read>(as.agency(AGENCY), query, { id: projectId });
    expect(byAgency.data?.project).toMatchObject({
      status: 'COMMITTEE_CONFIRMED',
      expertDraw: { seedCommitment: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(byAgency.data!.project!.timeline.length).toBeGreaterThan(5);
    expect(byAgency.data!.project!.expertDraw!.seats).toHaveLength(4);
    expect(JSON.parse(byAgency.data!.archiveBundle)).toMatchObject({ project: { id: projectId } });
    expect(leaks(JSON.stringify(byAgency), true)).toEqual([]);
    // The host's partner system gets the project or a refusal that says so, never silent nulls.
    const byPartner = await t.graphql<Read>(as.partner(HOST), query, { id: projectId });
    if (!byPartner.data?.project)
      expect(byPartner.errors?.map((error) => error.extensions?.code)).toContain('FORBIDDEN');
    else expect(byPartner.data.project.status).toBe('COMMITTEE_CONFIRMED');
    expect(leaks(JSON.stringify(byPartner), true)).toEqual([]);
  });

  it('keeps them out of the OCDS export even for the host operator once the evaluation started', async () => {
    await t.databases.experts.db
      .updateTable('draw')
      .set({ unsealed_at: new Date() })
      .where('project_id', '=', projectId)
      .execute();
    const response = await t.graphql<{ archiveReleasePackage: string }>(
      as.operator(HOST),
      `query($id: ID!) { archiveReleasePackage(projectId: $id) }`,
      { id: projectId },
    );
    expect(response.errors).toBeUndefined();
    expect(leaks(response.data!.archiveReleasePackage, true)).toEqual([]);
    await t.databases.experts.db
      .updateTable('draw')
      .set({ unsealed_at: null })
      .where('project_id', '=', projectId)
      .execute();
  });

  it('says nothing sealed in the errors of refused reads', async () => {
    const refused = await t.graphql(
      as.operator('410300'),
      `query($id: ID!) { project(id: $id) { id } archiveBundle(projectId: $id) }`,
      { id: projectId },
    );
    const sealed = await t.graphql(
      as.operator(HOST),
      `query($id: ID!) { project(id: $id) { expertDraw { seats { expert { id name employer } } } } }`,
      { id: projectId },
    );
    expect(sealed.errors?.map((error) => error.extensions?.code)).toContain('SEALED');
    expect(leaks(JSON.stringify([refused.errors, sealed.errors]), true)).toEqual([]);
  });

  it('stores no name or phone of a drawn expert outside the experts schema: timeline, webhooks, outboxes, ledger', async () => {
    const found: string[] = [];
    for (const schema of ['venues', 'projects']) {
      const tables = await sql<{
        table: string;
      }>`select table_name as table from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE'`.execute(
        t.databases.projects.db,
      );
      for (const { table } of tables.rows) {
        const rows = await sql<{
          row: string;
        }>`select t::text as row from ${sql.table(`${schema}.${table}`)} t`.execute(t.databases.projects.db);
        for (const leak of leaks(rows.rows.map((row) => row.row).join('\n'))) found.push(`${schema}.${table}: ${leak}`);
      }
    }
    expect(found).toEqual([]);
    // The timeline, which agencies and the archive read, names no expert id either.
    const events = await t.databases.projects.db
      .selectFrom('project_event')
      .selectAll()
      .where('project_id', '=', projectId)
      .execute();
    expect(leaks(JSON.stringify(events), true)).toEqual([]);
  });

  it('leaves no name or phone in Redis (job data, queues, rate limits)', async () => {
    const redis = new IORedis(t.config.REDIS_URL);
    try {
      const found: string[] = [];
      const prefix = t.config.HUB_QUEUE_PREFIX;
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        for (const key of keys) {
          const type = await redis.type(key);
          const values =
            type === 'string'
              ? [await redis.get(key)]
              : type === 'hash'
                ? Object.values(await redis.hgetall(key))
                : type === 'list'
                  ? await redis.lrange(key, 0, -1)
                  : type === 'zset'
                    ? await redis.zrange(key, 0, -1)
                    : type === 'set'
                      ? await redis.smembers(key)
                      : type === 'stream'
                        ? (await redis.xrange(key, '-', '+')).map((entry) => JSON.stringify(entry))
                        : [];
          for (const leak of leaks(values.join('\n'))) found.push(`${key}: ${leak}`);
        }
      } while (cursor !== '0');
      expect(found).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
