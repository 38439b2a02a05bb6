// Authorization tested as data, from the composed schema (issue 14): for every object type of the supergraph, every
// path from a root query field that reaches it (at most MAX_DEPTH fields deep), and every caller in and out of scope,
// the test asks for every field of the type and checks the answer against who may see it. The expectations are written
// here from DOMAIN.md (Actors, Sealing) and API.md, independently of lib/authorization.ts: a wrong grant in the matrix
// fails here. A type or field of the schema without a declaration in the matrix fails too (default-deny).
//
// The fixture is one REMOTE project P driven through the workflow to COMMITTEE_CONFIRMED (sealed: the evaluation has
// not started), hosted on Zhumadian (411700), booked in a room of Xiping county (411721), in a window no seeded
// project shares; every project, booking, draw and seat the walk meets is P's, so "in scope" is a property of the
// caller alone. Mutations are walked by test/authorization-matrix.test.ts.
import {
  parse,
  graphql,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { AUTHORIZATION_MATRIX, enforceAuthorization } from '../lib/authorization';
import { readSdl } from '../lib/subgraph';
import type { Identity } from '../lib/identity';
import { readSupergraph } from '../schema/supergraph';
import { buildSupergraphApiSchema } from './support/api-schema';
import { as, inDays, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';
import { advanceFee, arrangeConfirmed, confirmCommittee, file, submit, WORKFLOW_AGENCY } from './support/workflow';

type CallerIdentity = Omit<Identity, 'sub'> & { sub?: string };
const COUNTY = '411721';
const OTHER_CITY = '410300';
const MAX_DEPTH = 5;
const window = { startsAt: inDays(75, 1), endsAt: inDays(75, 9) };
const range = { from: inDays(74).toISOString(), to: inDays(77).toISOString() };
const fixture = { projectId: '', drawId: '', seatedExpert: '', otherExpert: '' };

/** Every caller the walk asks as: each role in the project's scope, and out of it (the partner city's staff are both). */
const CALLERS = {
  admin: () => as.admin,
  hostOperator: () => as.operator(ZHUMADIAN),
  roomOperator: () => as.operator(COUNTY),
  otherOperator: () => as.operator(OTHER_CITY),
  hostPartner: () => as.partner(ZHUMADIAN),
  roomPartner: () => as.partner(COUNTY),
  otherPartner: () => as.partner(OTHER_CITY),
  supervisor: () => as.supervisor('HOUSING_AND_CONSTRUCTION'),
  otherSupervisor: () => as.supervisor('FINANCE'),
  agency: () => as.agency(WORKFLOW_AGENCY),
  otherAgency: () => as.agency('另一家招标代理有限公司'),
  seatedExpert: () => as.expert(fixture.seatedExpert),
  otherExpert: () => as.expert(fixture.otherExpert),
} satisfies Record<string, () => CallerIdentity>;
type Caller = keyof typeof CALLERS;
const EVERYONE = Object.keys(CALLERS) as Caller[];

// --- Who may see what of P, from DOMAIN.md and API.md -----------------------------------------------------------------
/** project(id)'s readers: the province, the host platform's staff and system, the department's supervisors, the agency. */
const PROJECT_READERS: Caller[] = ['admin', 'hostOperator', 'hostPartner', 'supervisor', 'agency'];
/** Through a booking of its own rooms, a partner platform sees the project's outline. */
const OUTLINE_READERS: Caller[] = [...PROJECT_READERS, 'roomOperator', 'roomPartner'];
const OUTLINE = [
  'id',
  'code',
  'name',
  'category',
  'mode',
  'hostPlatform',
  'evaluationStartsAt',
  'evaluationEndsAt',
  'status',
  'committeeSize',
];
/** Schedules: every operator and supervisor, a partner system for its rooms and hosted projects, the project's agency. */
const BOOKING_READERS: Caller[] = [
  'admin',
  'hostOperator',
  'roomOperator',
  'otherOperator',
  'supervisor',
  'otherSupervisor',
  'hostPartner',
  'roomPartner',
  'agency',
];
/** A seat: counts and statuses for the project's readers; its expert for its own invitation. */
const SEAT_READERS: Caller[] = [...PROJECT_READERS, 'seatedExpert'];
/** Sealed before the evaluation: who sits on the committee is the expert's own business only (not even the province's). */
const SEAT_EXPERT_READERS: Caller[] = ['seatedExpert'];
/** An expert's record: the pool's administrators, and the expert itself (through its seat). */
const EXPERT_READERS: Caller[] = ['admin', 'seatedExpert'];

interface TypeRights {
  /** Who sees the type's objects (and, unless `fields` says otherwise, every field). */
  readers: readonly Caller[];
  fields?: Record<string, readonly Caller[]>;
  refusal?: 'FORBIDDEN' | 'SEALED';
}
const REFERENCE_DATA: TypeRights = { readers: EVERYONE };
/** Types no root or reference reaches except through a field already decided: whoever reaches them sees them. */
const REACHED: TypeRights = { readers: EVERYONE };
const TYPES: Record<string, TypeRights> = {
  Platform: REFERENCE_DATA,
  CooperationAgreement: REFERENCE_DATA,
  // A platform's rates and their versions are reference data, like the platform (MASTER-DATA.md).
  FeeRates: REFERENCE_DATA,
  Venue: REFERENCE_DATA,
  EvaluationRoom: REFERENCE_DATA,
  VenueBooking: { readers: BOOKING_READERS },
  // A room block is schedule data: the schedule's readers, and a partner system for its own rooms' blocks.
  RoomBlock: {
    readers: ['admin', 'hostOperator', 'roomOperator', 'otherOperator', 'supervisor', 'otherSupervisor', 'roomPartner'],
  },
  Project: { readers: PROJECT_READERS, fields: Object.fromEntries(OUTLINE.map((field) => [field, OUTLINE_READERS])) },
  // A seated expert reaches its draw only through its own invitation (myInvitations.draw).
  ExpertDraw: { readers: SEAT_READERS },
  CommitteeSeat: { readers: SEAT_READERS, fields: { expert: SEAT_EXPERT_READERS } },
  Expert: { readers: EXPERT_READERS, refusal: 'SEALED' },
  ProjectEvent: REACHED,
  LedgerEntry: REACHED,
  PartnerBalance: REACHED,
  ArchiveVerification: REACHED,
  Discrepancy: REACHED,
  ReconciliationReport: REACHED,
  ProjectEdge: REACHED,
  ProjectConnection: REACHED,
  PageInfo: REACHED,
  WebhookDelivery: REACHED,
  WebhookDeliveryEdge: REACHED,
  WebhookDeliveryConnection: REACHED,
  ExpertEdge: REACHED,
  ExpertUnavailability: REACHED,
  ExpertConnection: REACHED,
  AccessAttempt: REACHED,
  DrawVerification: REACHED,
  SealedAccessRecord: REACHED,
  MasterDataChange: REACHED,
  MasterDataChangeEdge: REACHED,
  MasterDataChangeConnection: REACHED,
  ImportFile: REACHED,
  ImportReport: REACHED,
};
/** Where a seat's expert is refused, the seal says so (SEALED), not FORBIDDEN. */
const SEALED_FIELDS = new Set(['CommitteeSeat.expert']);

/** The root query fields, their arguments (real ids of the fixture) and who may call them (API.md). */
const ROOTS: Record<string, { args: () => string; callers: readonly Caller[]; sealedUntilEvaluation?: true }> = {
  platform: { args: () => `(id: "${COUNTY}")`, callers: EVERYONE },
  platforms: { args: () => '(level: COUNTY)', callers: EVERYONE },
  schedule: {
    args: () => `(from: "${range.from}", to: "${range.to}")`,
    callers: [
      'admin',
      'hostOperator',
      'roomOperator',
      'otherOperator',
      'supervisor',
      'otherSupervisor',
      'hostPartner',
      'roomPartner',
      'otherPartner',
    ],
  },
  scheduleBlocks: {
    args: () => `(from: "${range.from}", to: "${range.to}")`,
    callers: [
      'admin',
      'hostOperator',
      'roomOperator',
      'otherOperator',
      'supervisor',
      'otherSupervisor',
      'hostPartner',
      'roomPartner',
      'otherPartner',
    ],
  },
  webhookDeliveries: {
    args: () => `(platformId: "${COUNTY}", first: 5)`,
    callers: ['admin', 'roomOperator', 'roomPartner'],
  },
  experts: { args: () => `(platformId: "${ZHUMADIAN}", first: 2)`, callers: ['admin'] },
  expertDraw: { args: () => `(id: "${fixture.drawId}")`, callers: ['admin', 'hostOperator', 'supervisor'] },
  // The seed and candidate lists stay sealed until the evaluation starts (DOMAIN.md, A verifiable draw): SEALED now.
  verifyExpertDraw: {
    args: () => `(drawId: "${fixture.drawId}")`,
    callers: ['admin', 'hostOperator', 'supervisor'],
    sealedUntilEvaluation: true,
  },
  myInvitations: { args: () => '', callers: ['seatedExpert', 'otherExpert'] },
  sealedAccessAudit: { args: () => `(projectId: "${fixture.projectId}")`, callers: ['admin', 'supervisor'] },
  accessAttempts: { args: () => `(projectId: "${fixture.projectId}")`, callers: ['admin', 'supervisor'] },
  // The specialty list is reference data; the pool's change records are for the province and every supervisor (MASTER-DATA.md).
  specialties: { args: () => '', callers: EVERYONE },
  masterDataChanges: { args: () => '(first: 5)', callers: ['admin', 'supervisor', 'otherSupervisor'] },
  project: { args: () => `(id: "${fixture.projectId}")`, callers: PROJECT_READERS },
  // Lists narrowed to the caller's scope; P is the only project in this state, so the scoped callers see it.
  projects: {
    args: () => '(status: COMMITTEE_CONFIRMED, first: 5)',
    callers: [
      'admin',
      'hostOperator',
      'roomOperator',
      'otherOperator',
      'hostPartner',
      'roomPartner',
      'otherPartner',
      'supervisor',
      'otherSupervisor',
      'agency',
      'otherAgency',
    ],
  },
  verifyProjectArchive: { args: () => `(projectId: "${fixture.projectId}")`, callers: PROJECT_READERS },
  archiveBundle: { args: () => `(projectId: "${fixture.projectId}")`, callers: PROJECT_READERS },
  archiveReleasePackage: { args: () => `(projectId: "${fixture.projectId}")`, callers: PROJECT_READERS },
  platformBalances: { args: () => `(platformId: "${ZHUMADIAN}")`, callers: ['admin', 'hostOperator'] },
  reconciliationReport: { args: () => '(id: "no-such-report")', callers: ['admin'] },
  latestReconciliationReport: { args: () => '', callers: ['admin'] },
  projectsEvaluatedBetween: { args: () => `(from: "${range.from}", to: "${range.to}", first: 5)`, callers: ['admin'] },
};
/** Arguments of nested fields that require them. */
const FIELD_ARGS: Record<string, () => string> = {
  'EvaluationRoom.freeSeats': () => `(from: "${range.from}", to: "${range.to}")`,
  'EvaluationRoom.bookings': () => `(from: "${range.from}", to: "${range.to}")`,
  'EvaluationRoom.blocks': () => `(from: "${range.from}", to: "${range.to}")`,
};
/** Lists narrowed to what the caller may see (rather than refused): the readers of their item type see them. */
const FILTERED_LISTS = new Set([
  'Query.schedule',
  'Query.projects',
  'Query.myInvitations',
  'EvaluationRoom.bookings',
  'EvaluationRoom.blocks',
  'Query.scheduleBlocks',
  'Project.venueBookings',
  'ExpertDraw.seats',
]);

/**
 * An expert checks in at its assigned seat (DOMAIN.md, step 6): it sees the booking of its own invitation (its room and
 * window), which the walk reaches only from myInvitations; every booking met that way holds the expert's seat. The project behind
 * it stays the project's readers' (its fields are refused).
 */
const OWN_SEAT_ROOT = 'myInvitations';

function rightsOf(
  typeName: string,
  field: string,
  path: readonly Step[],
): { readers: readonly Caller[]; refusal: 'FORBIDDEN' | 'SEALED' } {
  const rights = TYPES[typeName];
  if (!rights) throw new Error(`no expectation written for type ${typeName}: add it to TYPES from DOMAIN.md`);
  const readers = rights.fields?.[field] ?? rights.readers;
  const ownSeat = typeName === 'VenueBooking' && path[0]?.field === OWN_SEAT_ROOT;
  return {
    readers: ownSeat ? [...readers, 'seatedExpert'] : readers,
    refusal: SEALED_FIELDS.has(`${typeName}.${field}`) ? 'SEALED' : (rights.refusal ?? 'FORBIDDEN'),
  };
}

// --- The schema's paths -------------------------------------------------------------------------------------------
interface Step {
  type: string;
  field: string;
  returns: string;
  list: boolean;
}

function unwrap(type: GraphQLOutputType): { name: string; list: boolean } {
  let list = false;
  let current: GraphQLOutputType = type;
  for (;;) {
    if (isNonNullType(current)) current = current.ofType;
    else if (isListType(current)) {
      list = true;
      current = current.ofType;
    } else return { name: current.name, list };
  }
}

/** Every path of object fields from a root query field, without visiting a type twice, up to MAX_DEPTH fields. */
function pathsOf(schema: GraphQLSchema): Step[][] {
  const query = schema.getQueryType()!;
  const paths: Step[][] = [];
  const extend = (path: Step[], type: GraphQLObjectType) => {
    for (const field of Object.values(type.getFields())) {
      const returns = unwrap(field.type);
      const target = schema.getType(returns.name);
      if (!isObjectType(target)) continue;
      if (path.some((step) => step.type === returns.name) || type.name === returns.name) continue;
      const next = [...path, { type: type.name, field: field.name, returns: returns.name, list: returns.list }];
      paths.push(next);
      if (next.length < MAX_DEPTH) extend(next, target);
    }
  };
  extend([], query);
  return paths;
}

function argsOf(typeName: string, field: GraphQLField<unknown, unknown>): string {
  if (typeName === 'Query') return ROOTS[field.name].args();
  const given = FIELD_ARGS[`${typeName}.${field.name}`];
  if (given) return given();
  if (field.args.some((arg) => isNonNullType(arg.type)))
    throw new Error(`${typeName}.${field.name} needs arguments: add them to FIELD_ARGS`);
  return '';
}

/** The query of a path, asking for the given fields of its last type (object fields as `{ __typename }`). */
function queryOf(schema: GraphQLSchema, path: Step[], fieldNames: readonly string[]): string {
  const last = schema.getType(path[path.length - 1].returns) as GraphQLObjectType;
  const leaves = fieldNames.map((name) => {
    if (name === '__typename') return name;
    const field = last.getFields()[name];
    return `${name}${argsOf(last.name, field)}${isObjectType(schema.getType(unwrap(field.type).name)) ? ' { __typename }' : ''}`;
  });
  let selection = `{ ${leaves.join(' ')} }`;
  for (const step of [...path].reverse()) {
    const type = schema.getType(step.type) as GraphQLObjectType;
    selection = `{ ${step.field}${argsOf(step.type, type.getFields()[step.field])} ${selection} }`;
  }
  return selection;
}

/** The objects at the end of a path in the data (lists flattened), or the first step where nothing is left. */
function objectsAt(data: unknown, fields: readonly string[]): unknown[] {
  let current: unknown[] = [data];
  for (const field of fields) {
    current = current.flatMap((value) => {
      if (value === null || value === undefined) return [];
      const next = (value as Record<string, unknown>)[field];
      return Array.isArray(next) ? next : [next];
    });
  }
  return current.filter((value) => value !== null && value !== undefined);
}

type Answer = {
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string } }[];
  data?: unknown;
};
const errorPaths = (answer: Answer, code: string) =>
  (answer.errors ?? [])
    .filter((error) => error.extensions?.code === code)
    .map((error) => (error.path ?? []).filter((part) => typeof part === 'string').join('.'));

/**
 * Whether a refusal with the code was reported for the field at `at`: at the field itself, below it (a non-null field
 * of a refused object), or at the object holding it (a subgraph refusing the entity the field was fetched through).
 */
function refusedAt(answer: Answer, code: string, at: string): boolean {
  const holder = at.split('.').slice(0, -1).join('.');
  return errorPaths(answer, code).some(
    (errorPath) => errorPath === at || errorPath.startsWith(`${at}.`) || (holder !== '' && errorPath === holder),
  );
}

/** Runs the checks a few at a time: the hub answers concurrent callers, and the walk has thousands of questions. */
async function inParallel<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]);
    }),
  );
}

/**
 * Where along a path the caller is stopped: refused at a step (with the code), or shown an empty list at a step (a
 * narrowed list of a type it may not read), or let through to the last type.
 */
function stopOf(
  path: Step[],
  caller: Caller,
): { at: number; kind: 'refused'; code: string } | { at: number; kind: 'empty' } | null {
  for (let index = 0; index < path.length; index++) {
    const step = path[index];
    const readers = step.type === 'Query' ? ROOTS[step.field].callers : rightsOf(step.type, step.field, path).readers;
    if (!readers.includes(caller))
      return {
        at: index,
        kind: 'refused',
        code: step.type === 'Query' ? 'FORBIDDEN' : rightsOf(step.type, step.field, path).refusal,
      };
    if (step.type === 'Query' && ROOTS[step.field].sealedUntilEvaluation)
      return { at: index, kind: 'refused', code: 'SEALED' };
    if (
      step.list &&
      FILTERED_LISTS.has(`${step.type}.${step.field}`) &&
      !rightsOf(step.returns, 'id', path).readers.includes(caller)
    )
      return { at: index, kind: 'empty' };
    // A single object of a type the caller may not read is refused where it is reached.
    if (
      !step.list &&
      step.type !== 'Query' &&
      TYPES[step.returns] &&
      TYPES[step.returns].readers !== EVERYONE &&
      !rightsOf(step.returns, 'id', path).readers.includes(caller) &&
      'id' in (schemaForWalk.getType(step.returns) as GraphQLObjectType).getFields()
    ) {
      return { at: index, kind: 'refused', code: rightsOf(step.returns, 'id', path).refusal };
    }
  }
  return null;
}

let schemaForWalk: GraphQLSchema;
let t: TestHub;

beforeAll(async () => {
  schemaForWalk = buildSupergraphApiSchema(readSupergraph());
  // Every field at once costs more than a client page would; the walk is not what the cost limit is for.
  t = await startTestHub({
    overrides: { HUB_RATE_LIMIT: '0', HUB_RESPONSE_CACHE_MB: '0', INVITE_TTL: '10m', HUB_MAX_QUERY_COST: '100000000' },
  });
  fixture.projectId = await submit(t, window);
  await file(t, fixture.projectId);
  await arrangeConfirmed(t, fixture.projectId);
  await advanceFee(t, fixture.projectId);
  const seats = await confirmCommittee(t, fixture.projectId);
  fixture.seatedExpert = seats[0].expert_id!;
  fixture.drawId = (
    await t.databases.experts.db
      .selectFrom('draw')
      .select('id')
      .where('project_id', '=', fixture.projectId)
      .executeTakeFirstOrThrow()
  ).id;
  const seated = seats.map((seat) => seat.expert_id!);
  fixture.otherExpert = (
    await t.databases.experts.db
      .selectFrom('expert')
      .select('id')
      .where('id', 'not in', seated)
      .orderBy('id')
      .executeTakeFirstOrThrow()
  ).id;
}, 90_000);
afterAll(async () => {
  await t?.stop();
});

describe('every type and field of the schema is declared (default-deny)', () => {
  it('has a row in the authorization matrix for every field of every object type, and none for fields that do not exist', () => {
    const coordinates = Object.values(schemaForWalk.getTypeMap())
      .filter(
        (type): type is GraphQLObjectType =>
          isObjectType(type) &&
          !type.name.startsWith('__') &&
          !type.name.startsWith('join__') &&
          !type.name.startsWith('link__'),
      )
      .flatMap((type) => Object.keys(type.getFields()).map((field) => `${type.name}.${field}`));
    expect(coordinates.filter((coordinate) => !(coordinate in AUTHORIZATION_MATRIX))).toEqual([]);
    const stale = Object.keys(AUTHORIZATION_MATRIX).filter(
      (coordinate) => !coordinate.endsWith('.__resolveReference') && !coordinates.includes(coordinate),
    );
    expect(stale).toEqual([]);
  });

  it('declares __resolveReference for every entity a subgraph resolves', () => {
    const entities = (['venues', 'experts', 'projects'] as const).flatMap((domain) =>
      parse(readSdl(domain)).definitions.flatMap((definition) => {
        if (definition.kind !== Kind.OBJECT_TYPE_DEFINITION) return [];
        const key = definition.directives?.find((directive) => directive.name.value === 'key');
        const resolvable = key?.arguments?.find((argument) => argument.name.value === 'resolvable');
        return key && !(resolvable?.value.kind === Kind.BOOLEAN && !resolvable.value.value)
          ? [definition.name.value]
          : [];
      }),
    );
    expect(
      [...new Set(entities)].filter((entity) => !(`${entity}.__resolveReference` in AUTHORIZATION_MATRIX)),
    ).toEqual([]);
  });

  it('has an expectation written here for every object type and every root query field', () => {
    const types = Object.values(schemaForWalk.getTypeMap()).filter(
      (type) =>
        isObjectType(type) &&
        !['Query', 'Mutation'].includes(type.name) &&
        !type.name.startsWith('__') &&
        !type.name.startsWith('join__') &&
        !type.name.startsWith('link__'),
    );
    expect(types.map((type) => type.name).filter((name) => !(name in TYPES))).toEqual([]);
    expect(Object.keys(schemaForWalk.getQueryType()!.getFields()).filter((field) => !(field in ROOTS))).toEqual([]);
  });

  it('refuses, at run time, a field the SDL declares but the matrix does not', async () => {
    const typeDefs = parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { platforms: [Platform!]! }
      type Platform @key(fields: "id") { id: ID! name: String! undeclaredSecret: String }
    `);
    const resolvers = { Query: { platforms: () => [{ id: '411700', name: '驻马店', undeclaredSecret: 'leaked' }] } };
    const schema = buildSubgraphSchema([{ typeDefs, resolvers: enforceAuthorization(resolvers, typeDefs) }]);
    const answer = await graphql({
      schema,
      source: '{ platforms { id name undeclaredSecret } }',
      contextValue: { identity: { sub: 's', ...as.admin } },
    });
    expect(JSON.stringify(answer.data)).not.toContain('leaked');
    expect(answer.errors?.map((error) => error.extensions.code)).toEqual(['FORBIDDEN']);
    expect(answer.errors?.[0].message).toMatch(/Platform.undeclaredSecret has no row in the authorization matrix/);
  });
});

describe('every path to every type, as every caller', () => {
  it('answers each field with its value or with null and the refusal DOMAIN.md gives, never more', async () => {
    const paths = pathsOf(schemaForWalk);
    const wrong: string[] = [];
    const verified = new Map<string, number>();
    let queries = 0;
    let unreached = 0;
    const ask = async (caller: Caller, query: string) => {
      queries++;
      return (await t.graphql(CALLERS[caller](), query)) as Answer;
    };
    /** A refusal or a narrowed list is a property of the path up to where it happens: asked once per caller and prefix. */
    const stopsChecked = new Set<string>();
    const checks = paths.flatMap((path) => EVERYONE.map((caller) => ({ path, caller })));
    await inParallel(checks, 6, async ({ path, caller }) => {
      const fieldsAt = path.map((step) => step.field);
      const where = fieldsAt.join('.');
      const stop = stopOf(path, caller);
      if (stop) {
        const prefix = path.slice(0, stop.at + 1);
        const at = fieldsAt.slice(0, stop.at + 1).join('.');
        if (stopsChecked.has(`${caller}|${at}`)) return;
        stopsChecked.add(`${caller}|${at}`);
        // Every field, as an attacker would ask: key fields alone are answered from the reference without a fetch.
        const answer = await ask(
          caller,
          queryOf(
            schemaForWalk,
            prefix,
            stop.kind === 'refused'
              ? Object.keys((schemaForWalk.getType(prefix[prefix.length - 1].returns) as GraphQLObjectType).getFields())
              : ['__typename'],
          ),
        );
        const holders = objectsAt(answer.data, fieldsAt.slice(0, stop.at));
        if (objectsAt(answer.data, fieldsAt.slice(0, stop.at + 1)).length > 0)
          wrong.push(
            `${at} as ${caller}: expected ${stop.kind === 'refused' ? stop.code : 'a narrowed list'}, but objects came back`,
          );
        if (stop.kind === 'empty') {
          if (answer.errors)
            wrong.push(
              `${at} as ${caller}: expected a narrowed list, got errors ${JSON.stringify(answer.errors.map((error) => [error.extensions?.code, error.path?.join('.')]))}`,
            );
        } else if (!refusedAt(answer, stop.code, at)) {
          // Nothing to refuse where the path holds no object (an empty list before it).
          if (holders.length === 0 && stop.at > 0 && !answer.errors) unreached++;
          else
            wrong.push(
              `${at} as ${caller}: expected ${stop.code}, got ${JSON.stringify(answer.errors?.map((error) => [error.extensions?.code, error.path?.join('.')]) ?? answer.data).slice(0, 300)}`,
            );
        }
        return;
      }
      const last = schemaForWalk.getType(path[path.length - 1].returns) as GraphQLObjectType;
      const fieldNames = Object.keys(last.getFields());
      const allowed = fieldNames.filter((field) => rightsOf(last.name, field, path).readers.includes(caller));
      const refused = fieldNames.filter((field) => !allowed.includes(field));
      if (allowed.length > 0) {
        const answer = await ask(caller, queryOf(schemaForWalk, path, allowed));
        if (answer.errors)
          wrong.push(
            `${where} { ${allowed.join(' ')} } as ${caller}: expected values, got ${JSON.stringify(answer.errors.map((error) => [error.extensions?.code, error.path?.join('.'), error.message.slice(0, 120)]))}`,
          );
        const objects = objectsAt(answer.data, fieldsAt);
        for (const object of objects) {
          const missing = allowed.filter((field) => !(field in (object as Record<string, unknown>)));
          if (missing.length > 0) wrong.push(`${where} as ${caller}: no value for ${missing.join(', ')}`);
        }
        if (objects.length > 0) verified.set(last.name, (verified.get(last.name) ?? 0) + 1);
        else unreached++;
      }
      // One question per refused field: a refused non-null field nulls its object, which would hide its siblings.
      for (const field of refused) {
        const { refusal } = rightsOf(last.name, field, path);
        const answer = await ask(caller, queryOf(schemaForWalk, path, [field]));
        const at = `${where}.${field}`;
        const objects = objectsAt(answer.data, fieldsAt);
        if (
          objects.some(
            (object) =>
              (object as Record<string, unknown>)[field] !== null &&
              (object as Record<string, unknown>)[field] !== undefined,
          )
        )
          wrong.push(`${at} as ${caller}: expected null with ${refusal}, got a value`);
        const holders = objectsAt(answer.data, fieldsAt.slice(0, -1));
        if (!refusedAt(answer, refusal, at)) {
          if (holders.length === 0 && !answer.errors) unreached++;
          else
            wrong.push(
              `${at} as ${caller}: expected ${refusal}, got ${JSON.stringify(answer.errors?.map((error) => [error.extensions?.code, error.path?.join('.')]) ?? 'no error')}`,
            );
        }
      }
    });
    process.stdout.write(
      `schema authorization walk: ${paths.length} paths x ${EVERYONE.length} callers, ${queries} queries, ${unreached} answers with no object to check; objects verified per type ${JSON.stringify(Object.fromEntries(verified))}\n`,
    );
    expect(wrong).toEqual([]);
    // The walk reached real objects of every type the fixture holds, so "allowed" meant an answer with values.
    for (const type of [
      'Platform',
      'Venue',
      'EvaluationRoom',
      'VenueBooking',
      'Project',
      'ExpertDraw',
      'CommitteeSeat',
      'Expert',
      'ProjectEvent',
      'LedgerEntry',
      'ProjectConnection',
      'ExpertConnection',
      'ArchiveVerification',
    ]) {
      expect([type, verified.get(type) ?? 0]).not.toEqual([type, 0]);
    }
  }, 600_000);
});
