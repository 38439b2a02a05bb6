// The seal, state by state (issue 14, "Done when"): one project is driven through every state from SUBMITTED to
// ARCHIVED, and at each state every role asks every question that can reach the project (queries, archive exports over
// GraphQL and HTTP, webhook deliveries), while every log line (at debug) and every stored timeline, outbox and webhook
// payload is kept. At the end, each answer is searched for the id of every expert that ever held a seat of the
// project. Before IN_EVALUATION only an expert may see an id, its own; from IN_EVALUATION the host platform's operators
// and the project's supervisors may see them all; nobody else ever. Before IN_EVALUATION nothing carries the draw's
// seed or a candidate digest either (with them and the pool the committee could be recomputed).
import { Writable } from 'node:stream';
import { sql } from 'kysely';
import { as, startTestHub, type TestHub } from './support/hub';
import { CONFIRM } from './support/booking';
import {
  accept,
  advanceFee,
  agency,
  archive,
  arrange,
  CITY,
  CITY_ROOM,
  checkInAll,
  completeEvaluation,
  draw,
  file,
  heldBooking,
  host,
  invitedSeats,
  ok,
  projectStatus,
  seatsOf,
  startEvaluation,
  submit,
  supervisor,
  waitForStatus,
} from './support/workflow';

type Caller = NonNullable<Parameters<TestHub['graphql']>[0]>;

const logLines: string[] = [];
const capture = new Writable({
  write(chunk: Buffer, _encoding, done) {
    logLines.push(chunk.toString('utf8'));
    done();
  },
});

/** Who asks, and whether it may ever see the committee (from IN_EVALUATION). */
interface Asker {
  label: string;
  identity: Caller;
  overseer: boolean;
  /** An expert sees its own id only. */
  expert?: string;
}

const PARENT = '410000';
const OTHER_AGENCY = '其他示例代理公司';
const FIXED_ASKERS: Asker[] = [
  { label: 'provincial admin', identity: as.admin, overseer: false },
  { label: 'host operator', identity: host, overseer: true },
  { label: 'host partner system', identity: as.partner('411700'), overseer: false },
  { label: 'partner city operator', identity: as.operator(CITY), overseer: false },
  { label: 'partner city system', identity: as.partner(CITY), overseer: false },
  { label: 'project supervisor', identity: supervisor, overseer: true },
  {
    label: "project supervisor of the host's parent",
    identity: as.supervisor('HOUSING_AND_CONSTRUCTION', PARENT),
    overseer: true,
  },
  { label: 'supervisor of another department', identity: as.supervisor('FINANCE'), overseer: false },
  { label: 'agency', identity: agency, overseer: false },
  { label: 'another agency', identity: as.agency(OTHER_AGENCY), overseer: false },
  { label: 'expert outside the committee', identity: as.expert('exp-09991'), overseer: false, expert: 'exp-09991' },
];

interface Answer {
  state: string;
  asker: Asker;
  what: string;
  text: string;
}

let t: TestHub;
let projectId = '';
const answers: Answer[] = [];
/** Stored payloads seen at each state: timeline, outboxes, webhook deliveries. */
const stored: { state: string; text: string }[] = [];
const statesSeen: string[] = [];

const SEATS = `seats { id status specialty round reason booking { id } expert { id code name employer } }`;
const DRAW_FIELDS = `id status seedCommitment seed failureReason supervisorNonce ${SEATS}`;
const PROJECT_FIELDS = `id code status timeline { at kind actor detail } ledger { kind payer payee amount } expertDraw { ${DRAW_FIELDS} }`;

/** Every question that can reach the project, one request each (a refused non-null root field would null the rest). */
function questions(drawId: string | null): { what: string; query: string; variables: Record<string, unknown> }[] {
  const from = new Date(Date.now() - 86_400_000).toISOString();
  const to = new Date(Date.now() + 2 * 86_400_000).toISOString();
  const id = projectId;
  const booking = `id status project { ${PROJECT_FIELDS} } room { id }`;
  return [
    { what: 'project', query: `query($id: ID!) { project(id: $id) { ${PROJECT_FIELDS} } }`, variables: { id } },
    { what: 'projects', query: `{ projects(first: 50) { edges { node { ${PROJECT_FIELDS} } } } }`, variables: {} },
    {
      what: 'schedule',
      query: `query($from: DateTime!, $to: DateTime!) { schedule(from: $from, to: $to) { ${booking} } }`,
      variables: { from, to },
    },
    {
      what: 'room bookings',
      query: `query($p: ID!, $from: DateTime!, $to: DateTime!) { platform(id: $p) { venues { rooms { id bookings(from: $from, to: $to) { ${booking} } } } } }`,
      variables: { p: '411700', from, to },
    },
    ...(drawId
      ? [
          {
            what: 'expertDraw',
            query: `query($id: ID!) { expertDraw(id: $id) { ${DRAW_FIELDS} } }`,
            variables: { id: drawId },
          },
          {
            what: 'verifyExpertDraw',
            query: `query($id: ID!) { verifyExpertDraw(drawId: $id) { drawId matches detail } }`,
            variables: { id: drawId },
          },
        ]
      : []),
    {
      what: 'myInvitations',
      query: `{ myInvitations { id status draw { ${DRAW_FIELDS} } expert { id name employer } booking { id } } }`,
      variables: {},
    },
    {
      what: 'sealedAccessAudit',
      query: `query($id: ID!) { sealedAccessAudit(projectId: $id) { at actor role field seat { id expert { id } } } }`,
      variables: { id },
    },
    {
      what: 'accessAttempts',
      query: `query($id: ID!) { accessAttempts(projectId: $id) { at actor role admitted code reason roomId seat { id expert { id } } } }`,
      variables: { id },
    },
    { what: 'archiveBundle', query: `query($id: ID!) { archiveBundle(projectId: $id) }`, variables: { id } },
    {
      what: 'archiveReleasePackage',
      query: `query($id: ID!) { archiveReleasePackage(projectId: $id) }`,
      variables: { id },
    },
    {
      what: 'verifyProjectArchive',
      query: `query($id: ID!) { verifyProjectArchive(projectId: $id) { intact entries head: firstBrokenEntry } }`,
      variables: { id },
    },
    ...['411700', CITY].map((platform) => ({
      what: `webhookDeliveries ${platform}`,
      query: `query($p: ID!) { webhookDeliveries(platformId: $p, first: 50) { edges { node { id event url status lastError booking { ${booking} } } } } }`,
      variables: { p: platform },
    })),
  ];
}

async function httpExport(identity: Caller, suffix: string): Promise<string> {
  const response = await fetch(new URL(`/archives/${projectId}${suffix}`, t.hub.gateway.url), {
    headers: { authorization: `Bearer ${await t.token(identity)}` },
  });
  return `${response.status} ${await response.text()}`;
}

/** Asks every question as every asker, and keeps what is stored, at the project's current state. */
async function snapshot(expectedState: string, committee: readonly string[]): Promise<void> {
  const state = await projectStatus(t, projectId);
  expect(state).toBe(expectedState);
  statesSeen.push(state);
  const drawRow = await t.databases.experts.db
    .selectFrom('draw')
    .select('id')
    .where('project_id', '=', projectId)
    .orderBy('requested_at', 'desc')
    .executeTakeFirst();
  const askers: Asker[] = [
    ...FIXED_ASKERS,
    ...committee.map((expert) => ({
      label: `committee expert ${expert}`,
      identity: as.expert(expert),
      overseer: false,
      expert,
    })),
  ];
  for (const asker of askers) {
    const replies = await Promise.all(
      questions(drawRow?.id ?? null).map(async ({ what, query, variables }) => ({
        what,
        text: JSON.stringify(await t.graphql(asker.identity, query, variables)),
      })),
    );
    replies.push({ what: 'GET /archives/:id.json', text: await httpExport(asker.identity, '.json') });
    replies.push({ what: 'GET /archives/:id.ocds.json', text: await httpExport(asker.identity, '.ocds.json') });
    for (const reply of replies) answers.push({ state, asker, ...reply });
  }
  // Timeline, webhook deliveries, outboxes and every other table outside the experts domain; and the experts outbox.
  const texts: string[] = [];
  for (const schema of ['venues', 'projects']) {
    const tables = await sql<{
      table: string;
    }>`select table_name as table from information_schema.tables where table_schema = ${schema} and table_type = 'BASE TABLE'`.execute(
      t.databases.projects.db,
    );
    for (const { table } of tables.rows) {
      const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(`${schema}.${table}`)} t`.execute(
        t.databases.projects.db,
      );
      texts.push(`${schema}.${table}: ${rows.rows.map((row) => row.row).join('\n')}`);
    }
  }
  const outbox = await sql<{ row: string }>`select t::text as row from experts.outbox t`.execute(
    t.databases.projects.db,
  );
  texts.push(`experts.outbox: ${outbox.rows.map((row) => row.row).join('\n')}`);
  stored.push({ state, text: texts.join('\n') });
}

const UNSEALED_STATES = new Set(['IN_EVALUATION', 'EVALUATED', 'ARCHIVED']);

/** The committee ids an asker may see at a state. */
function allowed(answer: Answer, committee: readonly string[]): Set<string> {
  if (UNSEALED_STATES.has(answer.state) && answer.asker.overseer) return new Set(committee);
  return new Set(answer.asker.expert ? [answer.asker.expert] : []);
}

beforeAll(async () => {
  t = await startTestHub({ overrides: { LOG_LEVEL: 'debug', HUB_RATE_LIMIT: '0' }, logDestination: capture });
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

it('shows no committee id to anyone not allowed, in any answer, export, log line or stored payload, at every state from SUBMITTED to ARCHIVED', async () => {
  // Check-in opens one hour before the window: start it half an hour from now.
  const startsAt = new Date(Date.now() + 30 * 60_000);
  projectId = await submit(t, { startsAt, endsAt: new Date(startsAt.getTime() + 4 * 3_600_000) });
  await snapshot('SUBMITTED', []);
  await file(t, projectId);
  await snapshot('FILED', []);
  // The partner city confirms by hand: the project waits in VENUES_ARRANGING until it does.
  await arrange(t, projectId, [{ roomId: CITY_ROOM, seats: 2 }]);
  const held = await heldBooking(t, projectId, CITY_ROOM);
  await snapshot('VENUES_ARRANGING', []);
  await ok(t, as.operator(CITY), CONFIRM, { id: held });
  await waitForStatus(t, projectId, 'VENUES_CONFIRMED');
  await snapshot('VENUES_CONFIRMED', []);
  await advanceFee(t, projectId);
  await snapshot('FEE_ADVANCED', []);
  await draw(t, projectId);
  const invited = await invitedSeats(t, projectId);
  const drawn = invited.map((seat) => seat.expert_id!);
  await snapshot('EXPERTS_DRAWING', drawn);
  await accept(t, invited);
  await waitForStatus(t, projectId, 'COMMITTEE_CONFIRMED');
  await snapshot('COMMITTEE_CONFIRMED', drawn);
  const seats = (await seatsOf(t, projectId)).filter((seat) => seat.status === 'ACCEPTED');
  await checkInAll(t, seats);
  await startEvaluation(t, projectId);
  await snapshot('IN_EVALUATION', drawn);
  await completeEvaluation(t, projectId);
  await snapshot('EVALUATED', drawn);
  await archive(t, projectId);
  await snapshot('ARCHIVED', drawn);
  expect(statesSeen).toEqual([
    'SUBMITTED',
    'FILED',
    'VENUES_ARRANGING',
    'VENUES_CONFIRMED',
    'FEE_ADVANCED',
    'EXPERTS_DRAWING',
    'COMMITTEE_CONFIRMED',
    'IN_EVALUATION',
    'EVALUATED',
    'ARCHIVED',
  ]);

  // Every expert that ever held a seat of the project (none was replaced here, but the rule covers them too).
  const committee = [
    ...new Set((await seatsOf(t, projectId)).flatMap((seat) => (seat.expert_id ? [seat.expert_id] : []))),
  ];
  expect(committee).toHaveLength(4);

  const leaks = answers.flatMap((answer) => {
    const mayRead = allowed(answer, committee);
    return committee
      .filter((id) => !mayRead.has(id) && answer.text.includes(id))
      .map((id) => `${answer.state} / ${answer.asker.label} / ${answer.what}: ${id}`);
  });
  expect(leaks).toEqual([]);
  const storedLeaks = stored.flatMap(({ state, text }) =>
    committee
      .filter((id) => text.includes(id))
      .map(
        (id) => `${state} / stored: ${id} in ${text.slice(Math.max(0, text.indexOf(id) - 200), text.indexOf(id) + 40)}`,
      ),
  );
  expect(storedLeaks).toEqual([]);
  // The hub logs little (start-up, jobs, failures); the invitations' lines are the ones next to the committee.
  expect(logLines.filter((line) => line.includes('invitation sent'))).toHaveLength(4);
  const logLeaks = logLines.flatMap((line) =>
    committee.filter((id) => line.includes(id)).map((id) => `${id}: ${line.slice(0, 300)}`),
  );
  expect(logLeaks).toEqual([]);

  // Nor, before the evaluation starts, anything that would let the committee be recomputed: the seed or a candidate digest.
  const [{ id: drawId, seed }] = await t.databases.experts.db
    .selectFrom('draw')
    .select(['id', 'seed'])
    .where('project_id', '=', projectId)
    .execute();
  const digests = (
    await t.databases.experts.db
      .selectFrom('draw_round')
      .select('candidates_digest')
      .where('draw_id', '=', drawId)
      .execute()
  ).map((round) => round.candidates_digest);
  const secrets = [seed!, ...digests];
  const early = [
    ...answers.filter((answer) => !UNSEALED_STATES.has(answer.state)),
    ...stored
      .filter(({ state }) => !UNSEALED_STATES.has(state))
      .map((row) => ({ ...row, asker: { label: 'stored' }, what: 'payloads' })),
  ];
  const earlySecrets = early.flatMap((answer) =>
    secrets
      .filter((secret) => answer.text.includes(secret))
      .map((secret) => `${answer.state} / ${answer.asker.label} / ${answer.what}: ${secret.slice(0, 12)}…`),
  );
  expect(earlySecrets).toEqual([]);
  expect(logLines.filter((line) => secrets.some((secret) => line.includes(secret)))).toEqual([]);
  // …and from then on the seed is there to verify with.
  expect(
    answers.some(
      (answer) => answer.state === 'IN_EVALUATION' && answer.what === 'archiveBundle' && answer.text.includes(seed!),
    ),
  ).toBe(true);

  // The search finds what it looks for: the overseers see the committee once it is unsealed, an expert its own seat.
  const hostUnsealed = answers
    .filter(
      (answer) =>
        answer.state === 'IN_EVALUATION' && answer.asker.label === 'host operator' && answer.what === 'project',
    )
    .map((answer) => answer.text)
    .join('');
  expect(committee.every((id) => hostUnsealed.includes(id))).toBe(true);
  const [first] = committee;
  const own = answers.find(
    (answer) =>
      answer.state === 'COMMITTEE_CONFIRMED' && answer.asker.expert === first && answer.what === 'myInvitations',
  )!;
  expect(own.text).toContain(first);
  process.stdout.write(
    `seal, all states: ${answers.length} answers, ${stored.length} stored snapshots and ${logLines.length} log lines searched for ${committee.length} committee ids\n`,
  );
}, 600_000);
