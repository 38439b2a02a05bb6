// Input hostility: fast-check throws inputs generated from the supergraph's own argument types, spiked with hostile
// values (huge, empty, control and mixed-script strings, SQL and JSON fragments, extreme numbers, years 1 and 9999,
// unknown and real ids), at every mutation, as a caller the matrix allows. Every answer must carry an API error code
// (never INTERNAL_SERVER_ERROR), and a refused call must leave the database as it was.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import {
  getNullableType,
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
  'x'.repeat(10_000),
  '汉'.repeat(3_000),
];
const HOSTILE_NUMBERS = [0, -1, 1, 2, 3, 4, 5, 7, 99, 2_147_483_647, -2_147_483_648];
const HOSTILE_MONEY = ['0', '-1', '1', '99999999999999999999999999', '1e3', '0x10', ' 12', '１２', 9_007_199_254_740_991, 1.5, -5];
const HOSTILE_DATES = ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', 'yesterday', '2027-03-01T09:00:00+08:00', '2027-03-01T01:00:00Z', '', '1970-01-01T00:00:00Z'];

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
  if (isListType(nullable)) return fc.array(arbitraryOf(nullable.ofType, name, depth + 1), { maxLength: depth > 1 ? 1 : 3 });
  if (isEnumType(nullable)) return fc.constantFrom(...nullable.getValues().map((value) => value.name));
  if (isInputObjectType(nullable)) {
    const fields = Object.values(nullable.getFields());
    return fc.record(Object.fromEntries(fields.map((field) => [field.name, arbitraryOf(field.type, field.name, depth + 1)])));
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
        const strings = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 40 }), fc.constantFrom(`${name}-does-not-exist`, 'prj_00000000000000000000000000000000'));
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
  const preferred: Role[] = ['PLATFORM_OPERATOR', 'AGENCY', 'SUPERVISOR', 'PROVINCIAL_ADMIN', 'EXPERT', 'PARTNER_SYSTEM'];
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
    .map(({ schema, table }) => sql`select ${`${schema}.${table}`} as name, count(*)::text as count, coalesce(max(t.xmin::text::bigint), 0)::text as newest from ${sql.table(`${schema}.${table}`)} t`);
  const result = await parts.reduce((all, part) => sql`${all} union all ${part}`).execute(db);
  return createHash('sha256').update(JSON.stringify(result.rows)).digest('hex');
}

beforeAll(async () => {
  t = await startTestHub({ jobs: false, overrides: { HUB_RATE_LIMIT: '0' } });
  const rooms = await roomsOf(t, HOST);
  real.roomIds = rooms.slice(0, 2).map((room) => room.id);
  const submitted = await t.hub.services.projects.submitProject({ sub: 'hostile', role: 'PLATFORM_OPERATOR', platform: HOST }, {
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
  });
  const advanced = await feeAdvancedProject(t, { mode: 'LOCAL', bookings: [{ roomId: rooms[0].id, role: 'MAIN', seats: rooms[0].seats }] });
  real.projectIds = [submitted.id, advanced];
  real.bookingIds = [`bk-${advanced}-0`];
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
    fc.record({ field: fc.constant('bidders'), value: fc.constantFrom([], ['甲', '甲'], Array.from({ length: 500 }, (_, i) => `投标人${i}`)) }),
    fc.record({ field: fc.constantFrom('committeeSize', 'tendererRepresentatives'), value: fc.constantFrom(...HOSTILE_NUMBERS) }),
    fc.record({ field: fc.constant('budget'), value: fc.constantFrom(...HOSTILE_MONEY) }),
    fc.record({ field: fc.constantFrom('evaluationStartsAt', 'evaluationEndsAt'), value: fc.constantFrom(...HOSTILE_DATES) }),
    fc.record({ field: fc.constant('code'), value: fc.constant('HOSTILE-1') }),
  );

  it('answers with an API error code, and writes nothing when it refuses', async () => {
    await fc.assert(
      fc.asyncProperty(hostileField, async ({ field, value }) => {
        const before = await fingerprint();
        const response = await t.graphql<{ submitProject: { id: string; name: string } }>(as.operator(HOST), SUBMIT, { input: { ...valid(), [field]: value } });
        const codes = (response.errors ?? []).map((error) => error.extensions?.code ?? 'NONE');
        const improper = codes.filter((code) => !ALLOWED_CODES.includes(code));
        if (improper.length > 0) throw new Error(`submitProject with ${field} = ${JSON.stringify(value).slice(0, 80)} answered ${improper.join(', ')}: ${response.errors?.map((error) => error.message).join(' | ')}`);
        if (codes.length > 0 && (await fingerprint()) !== before) throw new Error(`submitProject refused ${field} yet wrote to the database`);
      }),
      { numRuns: 40, seed: 20260602, endOnFailure: true },
    );
  });
});

describe('hostile input at every mutation', () => {
  let calls = 0;
  afterAll(() => process.stdout.write(`hostile input: ${calls} calls over ${mutations.length} mutations\n`));

  it.each(mutations.map((field) => [field.name, field] as const))('%s answers every hostile input with an API error code and writes nothing when it refuses', async (name, field) => {
    const query = operationOf(name, field.args);
    const caller = callerFor(`Mutation.${name}`);
    // A refusal some mutations record on purpose (check-in attempts) is not a write this test forbids.
    const audited = AUTHORIZATION_MATRIX[`Mutation.${name}`]?.refusalsAudited ?? [];
    const variables = fc.record(Object.fromEntries(field.args.map((arg) => [arg.name, arbitraryOf(arg.type, arg.name)])));
    await fc.assert(
      fc.asyncProperty(variables, async (values) => {
        const before = await fingerprint(audited);
        const response = await t.graphql(caller, query, values as Record<string, unknown>);
        calls++;
        const codes = (response.errors ?? []).map((error) => error.extensions?.code ?? 'NONE');
        const improper = codes.filter((code) => !ALLOWED_CODES.includes(code));
        if (improper.length > 0) throw new Error(`${name} answered ${improper.join(', ')}: ${response.errors?.map((error) => error.message).join(' | ')}`);
        if (response.errors?.length) {
          if ((await fingerprint(audited)) !== before) throw new Error(`${name} refused (${codes.join(', ')}) yet wrote to the database`);
        }
      }),
      { numRuns: RUNS_PER_MUTATION, seed: 20260601, endOnFailure: true },
    );
  });
});
