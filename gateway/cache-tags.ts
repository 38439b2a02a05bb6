// What a cached answer contains, as tags, and what a mutation changed, as tags: an entry ends when a write stamps any
// of its tags after the entry's answer began (lib/cache-tags.ts).
//
// The vocabulary:
// - `all`: in every entry; stamped by a write nobody described.
// - `any`: in an entry holding a field whose dependencies are not described here; stamped by every write.
// - `T:<id>`: the stored fields of the object of type T with that id; `T:?` in every entry holding a keyed T, stamped
//   by a write that touched some T without naming it; `type:T`: in an entry holding a T whose id it did not select.
// - `list:T`: which objects of type T a list or connection holds (any list of T whose scope is not named).
// - `schedule:P@D`: which bookings `schedule` lists for platform P (bookings in P's rooms or of projects P hosts) on the
//   China day D; `schedule:*@D` the unscoped schedule's; `schedule` in every schedule, stamped when a booking changed
//   and which is unknown. The bookings a schedule lists carry no tags of their own: every write of a booking stamps
//   the schedules of its platforms and days (lib/cache-tags.ts, noted by the venues domain where it writes).
import {
  getArgumentValues,
  getNamedType,
  isCompositeType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { ALL_TAG, ANY_TAG, scheduleTags, someBookingChanged, touched } from '../lib/cache-tags';
import type { Identity } from '../lib/identity';

/**
 * Fields of each type whose value is stored with that object and changes only by a write that touches it (the object
 * fields among them are followed and tagged by their own type). A field of a type not listed, or not listed for its
 * type, tags its answer `any`.
 */
export const STORED_FIELDS: Record<string, readonly string[]> = {
  Platform: ['id', 'name', 'nameEn', 'level', 'parent', 'expertFeeRate', 'seatServiceFee', 'partners'],
  CooperationAgreement: ['partner', 'autoConfirm'],
  Venue: ['id', 'platform', 'name'],
  EvaluationRoom: ['id', 'venue', 'name', 'seats', 'videoTerminal'],
  VenueBooking: ['id', 'room', 'project', 'role', 'seats', 'startsAt', 'endsAt', 'status', 'holdExpiresAt', 'reason'],
  Project: [
    'id',
    'code',
    'name',
    'category',
    'department',
    'hostPlatform',
    'tenderer',
    'agency',
    'bidders',
    'budget',
    'mode',
    'procurementMethod',
    'committeeSize',
    'tendererRepresentatives',
    'evaluationStartsAt',
    'evaluationEndsAt',
    'status',
    'feeAdvance',
    // The project's latest draw: a new one is noted as a change of its project (subgraphs/experts/draw-run.ts).
    'expertDraw',
  ],
  // `seed` (revealed with the project's status) and `seats` (filtered per caller) are left to `any`.
  ExpertDraw: ['id', 'project', 'status', 'seedCommitment', 'failureReason', 'supervisorNonce'],
  CommitteeSeat: [
    'id',
    'booking',
    'specialty',
    'round',
    'status',
    'invitedAt',
    'answerDueAt',
    'respondedAt',
    'reason',
    'checkedInAt',
  ],
  ReconciliationReport: [
    'id',
    'from',
    'to',
    'status',
    'generatedAt',
    'discrepancies',
    'trigger',
    'requestedBy',
    'createdAt',
    'startedAt',
    'failureReason',
  ],
  Discrepancy: [
    'kind',
    'projectId',
    'bookingId',
    'detail',
    'projectCode',
    'seatId',
    'ledgerEntryId',
    'platformId',
    'resolution',
  ],
};

/** Types without an id whose objects are stored as part of their parent object: a change to them touches the parent. */
const OWNED_TYPES = new Set(['CooperationAgreement', 'Discrepancy']);
/** Root fields that look one object up by the id in their arguments: the object's own tags say when it changes. */
const LOOKUPS = new Set(['project', 'platform', 'expertDraw', 'reconciliationReport']);

interface Walk {
  schema: GraphQLSchema;
  fragments: Record<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
  identity: Identity;
  tags: Set<string>;
}

/** The fields of a selection set by response key, fragments flattened (the API has object types only). */
function collectFields(
  walk: Walk,
  selectionSet: SelectionSetNode,
  into = new Map<string, FieldNode[]>(),
): Map<string, FieldNode[]> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      const key = selection.alias?.value ?? selection.name.value;
      into.set(key, [...(into.get(key) ?? []), selection]);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) collectFields(walk, selection.selectionSet, into);
    else {
      const fragment = walk.fragments[selection.name.value];
      if (fragment) collectFields(walk, fragment.selectionSet, into);
    }
  }
  return into;
}

/** The item type of a list, or of a connection's edges' nodes; null for anything else. */
function listItemType(type: GraphQLOutputType): GraphQLNamedType | null {
  const bare = isNonNullType(type) ? type.ofType : type;
  if (isListType(bare)) return getNamedType(bare);
  const named = getNamedType(bare);
  if (isObjectType(named) && named.name.endsWith('Connection')) {
    const node = named.getFields().edges && getNamedType(named.getFields().edges.type);
    if (node && isObjectType(node)) {
      const nodeField = node.getFields().node;
      if (nodeField) return getNamedType(nodeField.type);
    }
  }
  return null;
}

/** What the fields of a connection's wrapper types say (edges, cursors, counts, pages) is decided by the list's tag. */
function isConnectionPart(type: GraphQLObjectType): boolean {
  return type.name.endsWith('Connection') || type.name.endsWith('Edge') || type.name === 'PageInfo';
}

function scheduleTag(walk: Walk, field: GraphQLField<unknown, unknown>, node: FieldNode): string[] {
  let args: { from?: unknown; to?: unknown; platformId?: string | null };
  try {
    args = getArgumentValues(field, node, walk.variables) as typeof args;
  } catch {
    return [ANY_TAG];
  }
  const instant = (value: unknown) =>
    value instanceof Date ? value : new Date(typeof value === 'string' ? value : Number.NaN);
  // A partner system's schedule is narrowed to its own platform by the subgraph; any other narrowing is tagged as the
  // whole province's schedule, which every booking write stamps too.
  const platform = args.platformId ?? (walk.identity.role === 'PARTNER_SYSTEM' ? walk.identity.platform : undefined);
  return scheduleTags(platform ?? null, instant(args.from), instant(args.to));
}

/**
 * Tags the value at one position of the answer. `owner` is the tag of the keyed object whose stored part this is (for
 * owned types), null when none.
 */
function walkValue(
  walk: Walk,
  type: GraphQLOutputType,
  nodes: FieldNode[],
  value: unknown,
  owner: string | null,
  listed = false,
): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    for (const item of value) walkValue(walk, type, nodes, item, owner, listed);
    return;
  }
  const named = getNamedType(type);
  if (!isCompositeType(named)) return;
  if (!isObjectType(named)) {
    walk.tags.add(ANY_TAG);
    return;
  }
  const merged: SelectionSetNode = {
    kind: Kind.SELECTION_SET,
    selections: nodes.flatMap((node) => node.selectionSet?.selections ?? []),
  };
  walkObject(walk, named, merged, value as Record<string, unknown>, owner, listed);
}

function walkObject(
  walk: Walk,
  type: GraphQLObjectType,
  selectionSet: SelectionSetNode,
  data: Record<string, unknown>,
  owner: string | null,
  listed = false,
): void {
  const fields = collectFields(walk, selectionSet);
  const typeFields = type.getFields();
  const stored = STORED_FIELDS[type.name];
  const keyed = 'id' in typeFields;
  let self: string | null = owner;
  // An item of a list whose tags end the answer on every write of its items (the schedule's bookings) needs none.
  let selfTag: string | null = null;
  if (keyed) {
    // The id selected under some key of this position gives the object's own tag.
    const idKey = [...fields].find(([, nodes]) => nodes[0].name.value === 'id')?.[0];
    const id = idKey ? data[idKey] : undefined;
    self = typeof id === 'string' ? `${type.name}:${id}` : `type:${type.name}`;
    if (!listed) {
      selfTag = self;
      if (typeof id === 'string') walk.tags.add(`${type.name}:?`);
    }
  }
  const isRoot = type === walk.schema.getQueryType();
  for (const [key, nodes] of fields) {
    const name = nodes[0].name.value;
    if (name === '__typename') continue;
    const field = typeFields[name];
    if (!field) {
      walk.tags.add(ANY_TAG);
      continue;
    }
    const item = listItemType(field.type);
    const named = getNamedType(field.type);
    if (isRoot) {
      if (name === 'schedule') {
        scheduleTag(walk, field, nodes[0]).forEach((tag) => walk.tags.add(tag));
        walkValue(walk, field.type, nodes, data[key], null, true);
        continue;
      } else if (item) walk.tags.add(`list:${item.name}`);
      else if (LOOKUPS.has(name)) {
        // Absent, it may come to be (or become visible): any change to its type ends the answer.
        if (data[key] === null) touched(named.name).forEach((tag) => walk.tags.add(tag));
      } else if (isObjectType(named)) walk.tags.add(`list:${named.name}`);
      else walk.tags.add(ANY_TAG);
      walkValue(walk, field.type, nodes, data[key], null);
      continue;
    }
    if (isConnectionPart(type)) {
      walkValue(walk, field.type, nodes, data[key], null);
      continue;
    }
    if (!stored?.includes(name) || !self) {
      walk.tags.add(ANY_TAG);
      walkValue(walk, field.type, nodes, data[key], null);
      continue;
    }
    if (selfTag) walk.tags.add(selfTag);
    // A list that is part of the object (owned items, or objects followed by their own tags) is stored with it.
    if (isObjectType(named) && OWNED_TYPES.has(named.name)) walkValue(walk, field.type, nodes, data[key], self);
    else walkValue(walk, field.type, nodes, data[key], null);
  }
}

/**
 * The tags of a query's answer: what it contains and which lists it answered. Always includes ALL_TAG.
 *
 * ```ts
 * answerTags(schema, document, operation, variables, data, identity); // ['all', 'schedule', 'schedule:*@2027-05-10', …]
 * ```
 */
export function answerTags(
  schema: GraphQLSchema,
  fragments: FragmentDefinitionNode[],
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  data: Record<string, unknown>,
  identity: Identity,
): string[] {
  const walk: Walk = {
    schema,
    fragments: Object.fromEntries(fragments.map((fragment) => [fragment.name.value, fragment])),
    variables,
    identity,
    tags: new Set([ALL_TAG]),
  };
  const query = schema.getQueryType();
  if (!query) return [ALL_TAG, ANY_TAG];
  walkObject(walk, query, operation.selectionSet, data, null);
  return [...walk.tags];
}

type Args = Record<string, unknown>;

function idAt(value: unknown, ...path: string[]): string | null {
  let at = value;
  for (const step of path) {
    if (!at || typeof at !== 'object') return null;
    at = (at as Record<string, unknown>)[step];
  }
  return typeof at === 'string' ? at : null;
}

const projectOf = (args: Args, result: unknown) =>
  typeof args.projectId === 'string' ? args.projectId : idAt(result, 'id');

/**
 * A booking decided: the booking. The schedules that list it are noted by the venues domain, which knows its platforms
 * and days (and so are the holds a rejection releases, by the job that releases them); with no answer (the decision
 * may have failed half-way) every booking and schedule.
 */
function bookingDecision(args: Args, result: unknown): string[] {
  const id = idAt(result, 'id') ?? (typeof args.bookingId === 'string' ? args.bookingId : null);
  return result ? touched('VenueBooking', id) : someBookingChanged();
}

/** What each mutation changes, from its arguments and its answer's data; a mutation not listed ends everything. */
const MUTATION_TAGS: Record<string, (args: Args, result: unknown) => string[]> = {
  confirmBooking: bookingDecision,
  rejectBooking: bookingDecision,
  respondToInvitation: (args) => [
    ...touched('CommitteeSeat', typeof args.seatId === 'string' ? args.seatId : null),
    ...touched('CommitteeSeat'),
  ],
  checkIn: (args) => touched('CommitteeSeat', typeof args.seatId === 'string' ? args.seatId : null),
  submitProject: (args, result) => touched('Project', projectOf(args, result)),
  fileProject: (args, result) => touched('Project', projectOf(args, result)),
  arrangeVenues: (args, result) => touched('Project', projectOf(args, result)),
  advanceEvaluationFee: (args, result) => touched('Project', projectOf(args, result)),
  archiveProject: (args, result) => touched('Project', projectOf(args, result)),
  // The bookings it releases are noted by the venues domain; with no answer, every booking and schedule.
  cancelProject: (args, result) => [
    ...touched('Project', projectOf(args, result)),
    ...(result ? [] : someBookingChanged()),
    ...touched('CommitteeSeat'),
  ],
  drawExperts: (args, result) => [
    ...touched('Project', projectOf(args, result)),
    ...touched('ExpertDraw'),
    ...touched('CommitteeSeat'),
  ],
  startEvaluation: (args, result) => [...touched('Project', projectOf(args, result)), ...touched('CommitteeSeat')],
  completeEvaluation: (args, result) => [...touched('Project', projectOf(args, result)), ...touched('CommitteeSeat')],
  replaceCommitteeMember: (_args, result) => [
    ...touched('Project', idAt(result, 'id')),
    ...touched('CommitteeSeat'),
    ...touched('ExpertDraw'),
  ],
  runReconciliation: (_args, result) => touched('ReconciliationReport', idAt(result, 'id')),
  // A block takes or frees seats only: its own fields, the schedule's blocks, and a room's free seats and blocks
  // (EvaluationRoom.freeSeats and .blocks are not stored fields, so answers holding them hold `any`).
  putRoomBlock: (_args, result) => touched('RoomBlock', idAt(result, 'id')),
  removeRoomBlock: (_args, result) => touched('RoomBlock', idAt(result, 'id')),
};

/**
 * The tags a mutation operation changed, from each root field's name, arguments and answer. Includes ANY_TAG, and
 * ALL_TAG when a field is not described (or its answer is missing: it may have failed half-way).
 */
export function mutationTags(
  schema: GraphQLSchema,
  fragments: FragmentDefinitionNode[],
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  data: Record<string, unknown> | null | undefined,
): string[] {
  const walk: Walk = {
    schema,
    fragments: Object.fromEntries(fragments.map((fragment) => [fragment.name.value, fragment])),
    variables,
    identity: { sub: '', role: 'PROVINCIAL_ADMIN' } as Identity,
    tags: new Set([ANY_TAG]),
  };
  const mutation = schema.getMutationType();
  if (!mutation) return [ALL_TAG];
  for (const [key, nodes] of collectFields(walk, operation.selectionSet)) {
    const name = nodes[0].name.value;
    const field = mutation.getFields()[name];
    const describe = MUTATION_TAGS[name];
    if (name === '__typename') continue;
    if (!field || !describe) return [ALL_TAG];
    let args: Args;
    try {
      args = getArgumentValues(field, nodes[0], variables);
    } catch {
      return [ALL_TAG];
    }
    for (const tag of describe(args, data?.[key] ?? null)) walk.tags.add(tag);
  }
  return [...walk.tags];
}
