// Input hostility: fast-check throws inputs generated from the supergraph's own argument types, spiked with hostile
// values (huge, empty, control and mixed-script strings, SQL and JSON fragments, extreme numbers, years 1 and 9999,
// unknown and real ids), at every mutation, as a caller the matrix allows. Every answer must carry an API error code
// (never INTERNAL_SERVER_ERROR), a refused call must leave the database as it was, and an accepted call must have done
// what it answered. Text Postgres cannot store (NUL, lone surrogates) in any string or ID argument of any root field is
// BAD_USER_INPUT, logged at most as a warning without a stack.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import {
  getNamedType,
  getNullableType,
  isLeafType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
} from 'graphql';
import { AUTHORIZATION_MATRIX } from '../lib/authorization';
import { ERROR_CODES } from '../lib/errors';
import type { Identity, Role } from '../lib/identity';
import { readSupergraph } from '../schema/supergraph';
import { buildSupergraphApiSchema } from './support/api-schema';
import { as, startTestHub, type TestHub } from './support/hub';
import { AGENCY, feeAdvancedProject, HOST, inDays, projectInput, roomsOf } from './support/expert-draw';

const RUNS_PER_MUTATION = 8;
const schema = buildSupergraphApiSchema(readSupergraph());
let t: TestHub;
const real = { projectIds: [] as string[], roomIds: [] as string[], bookingIds: [] as string[] };

const CONTROL_CHARACTERS = '\u0001\u0002\u0003\u0008\u000b\u000c\u000e\u001f\u007f\u0085';
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\u0007\u001b[31mred\u001b[0m',
  '\r\n\t',
  '\u202eevil\u202c',
  'раураl 评标 ﷽ 👩‍👩‍👧',
  'аdmin',
  "' OR '1'='1' --",
  "'; drop table project; --",
  '); select pg_sleep(5); --',
  '{"$gt": ""}',
  '{"__proto__": {"admin": true}}',
  '${7*7}{{7*7}}<script>alert(1)</script>',
  '../../../../etc/passwd',
  '\ud800',
  'a\udc00b',
  CONTROL_CHARACTERS,
  '\u2028\u2029\ufeff\ufffe\uffff',
  'x'.repeat(10_000),
  '汉'.repeat(3_000),
  'y'.repeat(200_000),
];
/** Text no Postgres text column can hold (NUL), or that is not Unicode at all (lone surrogates). */
const UNSTORABLE_STRINGS = ['\u0000', 'a\u0000b', `${'x'.repeat(5_000)}\u0000`, '\ud800', 'a\udc00b', '\udbff\u0000'];
const HOSTILE_NUMBERS = [0, -1, 1, 2, 3, 4, 5, 7, 99, 2_147_483_647, -2_147_483_648];
const HOSTILE_MONEY = [
  '0',
  '-1',
  '1',
  '99999999999999999999999999',
  '1e3',
  '0x10',
  ' 12',
  '１２',
  9_007_199_254_740_991,
  1.5,
  -5,
];
const HOSTILE_DATES = [
  '0001-01-01T00:00:00Z',
  '9999-12-31T23:59:59Z',
  '2026-02-30T00:00:00Z',
  'yesterday',
  '2027-03-01T09:00:00+08:00',
  '2027-03-01T01:00:00Z',
  '',
  '1970-01-01T00:00:00Z',
];

function idsFor(argName: string): string[] {
  if (/room/i.test(argName)) return real.roomIds;
  if (/booking/i.test(argName)) return real.bookingIds;
  if (/project/i.test(argName)) return real.projectIds;
  return [];
}

/** An arbitrary for a GraphQL input type: valid shapes, hostile contents. */
function arbitraryOf(type: GraphQLInputType, name: string, depth = 0): fc.Arbitrary<unknown> {
  if (isNonNullType(type)) return arbitraryOf(type.ofType, name, depth);
  const nullable = getNullableType(type);
  if (isListType(nullable))
    return fc.array(arbitraryOf(nullable.ofType, name, depth + 1), { maxLength: depth > 1 ? 1 : 3 });
  if (isEnumType(nullable)) return fc.constantFrom(...nullable.getValues().map((value) => value.name));
  if (isInputObjectType(nullable)) {
    const fields = Object.values(nullable.getFields());
    return fc.record(
      Object.fromEntries(fields.map((field) => [field.name, arbitraryOf(field.type, field.name, depth + 1)])),
    );
  }
  if (isScalarType(nullable)) {
    switch (nullable.name) {
      case 'Int':
        return fc.oneof(fc.constantFrom(...HOSTILE_NUMBERS), fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }));
      case 'Boolean':
        return fc.boolean();
      case 'Money':
        return fc.constantFrom(...HOSTILE_MONEY);
      case 'DateTime':
        return fc.constantFrom(...HOSTILE_DATES);
      default: {
        const ids = idsFor(name);
        const strings = fc.oneof(
          fc.constantFrom(...HOSTILE_STRINGS),
          fc.string({ maxLength: 40 }),
          fc.constantFrom(`${name}-does-not-exist`, 'prj_00000000000000000000000000000000'),
        );
        return ids.length > 0 ? fc.oneof(fc.constantFrom(...ids), strings) : strings;
      }
    }
  }
  return fc.constant(null);
}

function operationOf(field: string, args: readonly GraphQLArgument[]): string {
  const variables = args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
  const passed = args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  return `mutation${variables ? `(${variables})` : ''} { ${field}${passed ? `(${passed})` : ''} { __typename } }`;
}

/** A caller the matrix lets use the mutation, inside the scope of the seeded host platform and its fixtures. */
function callerFor(coordinate: string): Omit<Identity, 'sub'> {
  const roles = Object.keys(AUTHORIZATION_MATRIX[coordinate]?.roles ?? {}) as Role[];
  const preferred: Role[] = [
    'PLATFORM_OPERATOR',
    'AGENCY',
    'SUPERVISOR',
    'PROVINCIAL_ADMIN',
    'EXPERT',
    'PARTNER_SYSTEM',
  ];
  const role = preferred.find((candidate) => roles.includes(candidate)) ?? 'PROVINCIAL_ADMIN';
  switch (role) {
    case 'AGENCY':
      return as.agency(AGENCY);
    case 'SUPERVISOR':
      return as.supervisor('HOUSING_AND_CONSTRUCTION');
    case 'EXPERT':
      return as.expert('exp-00001');
    case 'PARTNER_SYSTEM':
      return as.partner(HOST);
    case 'PLATFORM_OPERATOR':
      return as.operator(HOST);
    default:
      return as.admin;
  }
}

/** Rows and the newest row version of every table (less `except`): an insert, update or delete changes one of them. */
async function fingerprint(except: readonly string[] = []): Promise<string> {
  const db = t.databases.projects.db;
  const tables = await sql<{ schema: string; table: string }>`
    select table_schema as schema, table_name as table from information_schema.tables
    where table_schema in ('venues', 'experts', 'projects') and table_type = 'BASE TABLE' order by 1, 2`.execute(db);
  const parts = tables.rows
    .filter(({ schema, table }) => !except.includes(`${schema}.${table}`))
    .map(
      ({ schema, table }) =>
        sql`select ${`${schema}.${table}`} as name, count(*)::text as count, coalesce(max(t.xmin::text::bigint), 0)::text as newest from ${sql.table(`${schema}.${table}`)} t`,
    );
  const result = await parts.reduce((all, part) => sql`${all} union all ${part}`).execute(db);
  return createHash('sha256').update(JSON.stringify(result.rows)).digest('hex');
}

const logLines: string[] = [];
beforeAll(async () => {
  t = await startTestHub({
    jobs: false,
    overrides: { HUB_RATE_LIMIT: '0', LOG_LEVEL: 'warn' },
    logDestination: { write: (line) => logLines.push(line) },
  });
  const rooms = await roomsOf(t, HOST);
  real.roomIds = rooms.slice(0, 2).map((room) => room.id);
  const submitted = await t.hub.services.projects.submitProject(
    { sub: 'hostile', role: 'PLATFORM_OPERATOR', platform: HOST },
    {
      code: 'HOSTILE-1',
      name: '恶意输入示例工程',
      category: 'CONSTRUCTION',
      department: 'HOUSING_AND_CONSTRUCTION',
      hostPlatformId: HOST,
      tenderer: '示例城市建设投资有限公司',
      agency: AGENCY,
      bidders: ['河南示例路桥建设有限公司'],
      budget: 100_000_000n,
      mode: 'LOCAL',
      committeeSize: 5,
      tendererRepresentatives: 1,
      evaluationStartsAt: inDays(30, 1),
      evaluationEndsAt: inDays(30, 9),
    },
  );
  const advanced = await feeAdvancedProject(t, {
    mode: 'LOCAL',
    bookings: [{ roomId: rooms[0].id, role: 'MAIN', seats: rooms[0].seats }],
  });
  real.projectIds = [submitted.id, advanced];
  real.bookingIds = (await t.hub.services.venues.bookingsOfProjects([advanced])).map((booking) => booking.id);
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const mutationType = schema.getMutationType();
const mutations = mutationType && isObjectType(mutationType) ? Object.values(mutationType.getFields()) : [];
const ALLOWED_CODES: readonly string[] = [...ERROR_CODES, 'RATE_LIMITED'];

describe('one hostile value in an otherwise valid submission', () => {
  const SUBMIT = 'mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id name } }';
  const valid = () => projectInput('HOSTILE-V', '恶意输入示例工程');
  const hostileField = fc.oneof(
    fc.record({ field: fc.constantFrom('code', 'name', 'tenderer'), value: fc.constantFrom(...HOSTILE_STRINGS) }),
    fc.record({ field: fc.constant('bidders'), value: fc.constantFrom(...HOSTILE_STRINGS).map((value) => [value]) }),
    fc.record({
      field: fc.constant('bidders'),
      value: fc.constantFrom(
        [],
        ['甲', '甲'],
        Array.from({ length: 500 }, (_, i) => `投标人${i}`),
      ),
    }),
    fc.record({
      field: fc.constantFrom('committeeSize', 'tendererRepresentatives'),
      value: fc.constantFrom(...HOSTILE_NUMBERS),
    }),
    fc.record({ field: fc.constant('budget'), value: fc.constantFrom(...HOSTILE_MONEY) }),
    fc.record({
      field: fc.constantFrom('evaluationStartsAt', 'evaluationEndsAt'),
      value: fc.constantFrom(...HOSTILE_DATES),
    }),
    fc.record({ field: fc.constant('code'), value: fc.constant('HOSTILE-1') }),
  );

  let accepted = 0;
  afterAll(() => process.stdout.write(`hostile submission: ${accepted} accepted and read back\n`));

  it('answers with an API error code, writes nothing when it refuses, and stores exactly what it accepts', async () => {
    await fc.assert(
      fc.asyncProperty(hostileField, async ({ field, value }) => {
        const before = await fingerprint();
        const response = await t.graphql<{ submitProject: { id: string; name: string } }>(as.operator(HOST), SUBMIT, {
          input: { ...valid(), [field]: value },
        });
        const codes = (response.errors ?? []).map((error) => error.extensions?.code ?? 'NONE');
        const improper = codes.filter((code) => !ALLOWED_CODES.includes(code));
        if (improper.length > 0)
          throw new Error(
            `submitProject with ${field} = ${JSON.stringify(value).slice(0, 80)} answered ${improper.join(', ')}: ${response.errors?.map((error) => error.message).join(' | ')}`,
          );
        if (codes.length > 0 && (await fingerprint()) !== before)
          throw new Error(`submitProject refused ${field} yet wrote to the database`);
        if (codes.length === 0) {
          // Accepted: the project exists, holding exactly what was sent.
          const id = response.data?.submitProject.id;
          const read = await t.graphql<{ project: Record<string, unknown> | null }>(
            as.operator(HOST),
            'query($id: ID!) { project(id: $id) { code name tenderer bidders budget committeeSize tendererRepresentatives evaluationStartsAt evaluationEndsAt } }',
            { id },
          );
          const sent = { ...valid(), [field]: value } as Record<string, unknown>;
          const stored = read.data?.project;
          if (!stored)
            throw new Error(
              `submitProject accepted ${field} = ${JSON.stringify(value).slice(0, 80)} but project ${id} cannot be read: ${JSON.stringify(read.errors)}`,
            );
          const expected =
            field === 'evaluationStartsAt' || field === 'evaluationEndsAt'
              ? new Date(value as string).toISOString()
              : field === 'budget'
                ? String(value)
                : value;
          if (field !== 'code' && JSON.stringify(stored[field]) !== JSON.stringify(expected)) {
            throw new Error(
              `submitProject accepted ${field} = ${JSON.stringify(value).slice(0, 80)} but stored ${JSON.stringify(stored[field]).slice(0, 80)}`,
            );
          }
          if (stored.name !== sent.name && field !== 'name')
            throw new Error('submitProject stored another name than it was sent');
          accepted++;
        }
      }),
      { numRuns: 40, seed: 20260602, endOnFailure: true },
    );
  });
});

/**
 * Mutations that accept a call whose effect is already in place (idempotent), writing nothing: confirming a confirmed
 * booking; importing files the pool already holds, or a dry run (which reports its problems instead of refusing);
 * declaring a conflict already on the expert's record; retiring a room already retired; putting a block again with the
 * same externalRef and window, or removing one already removed (MASTER-DATA.md: a partner's system retries).
 */
const ALREADY_DONE_ACCEPTED: readonly string[] = [
  'confirmBooking',
  'importExperts',
  'declareConflict',
  'retireRoom',
  'putRoomBlock',
  'removeRoomBlock',
];

describe('hostile input at every mutation', () => {
  let calls = 0;
  const acceptedBy: Record<string, number> = {};
  afterAll(() =>
    process.stdout.write(
      `hostile input: ${calls} calls over ${mutations.length} mutations, accepted: ${JSON.stringify(acceptedBy)}\n`,
    ),
  );

  it.each(mutations.map((field) => [field.name, field] as const))(
    '%s answers every hostile input with an API error code, writes nothing when it refuses and changes what it accepts',
    async (name, field) => {
      const query = operationOf(name, field.args);
      const caller = callerFor(`Mutation.${name}`);
      // A refusal some mutations record on purpose (check-in attempts) is not a write this test forbids.
      const audited = AUTHORIZATION_MATRIX[`Mutation.${name}`]?.refusalsAudited ?? [];
      const variables = fc.record(
        Object.fromEntries(field.args.map((arg) => [arg.name, arbitraryOf(arg.type, arg.name)])),
      );
      await fc.assert(
        fc.asyncProperty(variables, async (values) => {
          const before = await fingerprint(audited);
          const response = await t.graphql(caller, query, values as Record<string, unknown>);
          calls++;
          const codes = (response.errors ?? []).map((error) => error.extensions?.code ?? 'NONE');
          const improper = codes.filter((code) => !ALLOWED_CODES.includes(code));
          if (improper.length > 0)
            throw new Error(
              `${name} answered ${improper.join(', ')}: ${response.errors?.map((error) => error.message).join(' | ')}`,
            );
          if (response.errors?.length) {
            if ((await fingerprint(audited)) !== before)
              throw new Error(`${name} refused (${codes.join(', ')}) yet wrote to the database`);
          } else {
            // Accepted: it answered the object it changed, and the change is in the database.
            const answered = (response.data as Record<string, { __typename?: string } | null> | null | undefined)?.[
              name
            ];
            if (!answered?.__typename)
              throw new Error(`${name} answered neither an error nor an object: ${JSON.stringify(response.data)}`);
            if ((await fingerprint(audited)) === before) {
              // Only a mutation that may find its work already done (confirming a confirmed booking) accepts without a
              // write, and then the same call again answers the same.
              if (!ALREADY_DONE_ACCEPTED.includes(name))
                throw new Error(
                  `${name} accepted ${JSON.stringify(values).slice(0, 200)} and answered ${answered.__typename}, yet changed nothing`,
                );
              const again = await t.graphql(caller, query, values as Record<string, unknown>);
              if (JSON.stringify(again) !== JSON.stringify(response))
                throw new Error(
                  `${name} accepted a no-op but answered differently the second time: ${JSON.stringify(again).slice(0, 200)}`,
                );
            }
            acceptedBy[name] = (acceptedBy[name] ?? 0) + 1;
          }
        }),
        { numRuns: RUNS_PER_MUTATION, seed: 20260601, endOnFailure: true },
      );
    },
  );
});

/** Every path to a String or ID inside an argument's type: [] for the argument itself, ['input', 'name'] for a field. */
function textPaths(type: GraphQLInputType, path: string[] = [], depth = 0): { path: string[]; list: boolean }[] {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return textPaths(nullable.ofType, path, depth).map((found) => ({ ...found, list: true }));
  if (isScalarType(nullable))
    return nullable.name === 'String' || nullable.name === 'ID' ? [{ path, list: false }] : [];
  if (isInputObjectType(nullable) && depth < 3)
    return Object.values(nullable.getFields()).flatMap((field) =>
      textPaths(field.type, [...path, field.name], depth + 1),
    );
  return [];
}

function withValueAt(values: Record<string, unknown>, path: string[], value: unknown): Record<string, unknown> {
  if (path.length === 1) return { ...values, [path[0]]: value };
  const inner = (values[path[0]] ?? {}) as Record<string, unknown>;
  return {
    ...values,
    [path[0]]: withValueAt(
      Array.isArray(inner) ? ((inner[0] ?? {}) as Record<string, unknown>) : inner,
      path.slice(1),
      value,
    ),
  };
}

describe('text Postgres cannot store, in every string and ID argument of every root field', () => {
  const roots = [schema.getQueryType(), schema.getMutationType()].flatMap((type) =>
    type
      ? Object.values(type.getFields()).map((field) => ({
          kind: type === schema.getQueryType() ? 'query' : 'mutation',
          field,
        }))
      : [],
  );
  const cases = roots.flatMap(({ kind, field }) =>
    field.args.flatMap((arg) =>
      textPaths(arg.type).map(({ path, list }) => ({ kind, field, path: [arg.name, ...path], list })),
    ),
  );

  it('has text arguments to try', () => {
    expect(cases.length).toBeGreaterThan(20);
  });

  it.each(cases.map((found) => [`${found.field.name}(${found.path.join('.')})`, found] as const))(
    '%s: unstorable text is BAD_USER_INPUT (nothing written, no error log); control characters and 200,000 characters are no 500',
    async (_label, { kind, field, path, list }) => {
      const variables = field.args.map((arg) => `$${arg.name}: ${arg.type.toString()}`).join(', ');
      const passed = field.args.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
      const selection = isLeafType(getNamedType(field.type)) ? '' : ' { __typename }';
      const query = `${kind}(${variables}) { ${field.name}(${passed})${selection} }`;
      const caller = kind === 'mutation' ? callerFor(`Mutation.${field.name}`) : as.admin;
      const valid = fc.sample(
        fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, arbitraryOf(arg.type, arg.name)]))),
        { numRuns: 1, seed: 20260603 },
      )[0] as Record<string, unknown>;
      for (const unstorable of UNSTORABLE_STRINGS) {
        const before = await fingerprint();
        const logged = logLines.length;
        const response = await t.graphql(caller, query, withValueAt(valid, path, list ? [unstorable] : unstorable));
        const codes = (response.errors ?? []).map((error) => error.extensions?.code);
        expect({
          unstorable: JSON.stringify(unstorable).slice(0, 40),
          status: response.status,
          codes,
          data: response.data,
        }).toEqual({
          unstorable: JSON.stringify(unstorable).slice(0, 40),
          status: 400,
          codes: ['BAD_USER_INPUT'],
          data: undefined,
        });
        expect(response.errors?.[0].message).toMatch(/NUL character|lone UTF-16 surrogate/);
        expect(await fingerprint()).toBe(before);
        const lines = logLines
          .slice(logged)
          .map((line) => JSON.parse(line) as { level: number; err?: { stack?: string } });
        expect(lines.filter((line) => line.level >= 50 || line.err?.stack !== undefined)).toEqual([]);
      }
      // Storable but hostile (control characters, an over-long string): an API error code or an answer, never a 500.
      const audited =
        kind === 'mutation' ? (AUTHORIZATION_MATRIX[`Mutation.${field.name}`]?.refusalsAudited ?? []) : [];
      for (const hostile of [CONTROL_CHARACTERS, 'z'.repeat(200_000)]) {
        const before = await fingerprint(audited);
        const response = await t.graphql(caller, query, withValueAt(valid, path, list ? [hostile] : hostile));
        const codes = (response.errors ?? []).map((error) => error.extensions?.code ?? 'NONE');
        expect({
          hostile: hostile.slice(0, 20),
          status: response.status < 500,
          improper: codes.filter((code) => !ALLOWED_CODES.includes(code)),
        }).toEqual({ hostile: hostile.slice(0, 20), status: true, improper: [] });
        if (codes.length > 0) expect(await fingerprint(audited)).toBe(before);
      }
    },
  );
});
