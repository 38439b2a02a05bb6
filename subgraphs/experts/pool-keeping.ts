// The pool kept by its administrator (MASTER-DATA.md, "The expert pool"; PROVINCIAL_ADMIN, lib/authorization.ts):
// registering and updating experts, their employment, suspension and reinstatement, penalties, retirement, and removing
// a declared conflict. Each change writes one audit record in its own transaction (lib/master-data-audit.ts); a refused
// change writes nothing. Suspending, penalising or retiring an expert who sits on committees goes through withdrawal.ts.
import type { Transaction } from 'kysely';
import { chinaDay } from '../../lib/china-time';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { badInput, conflict, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { actorOf, recordMasterDataChange, type ChangeFields } from '../../lib/master-data-audit';
import type { Expert, ExpertsCore } from './core';
import type { PlatformLookup } from './pool-import';
import { requireKnownSpecialties } from './specialties';
import type { ExpertsDatabase, ExpertStatus } from './types';
import { liveSeatsOf, requireReplaceable, seatsInTheWay, withdrawSeats } from './withdrawal';

export interface ExpertInput {
  code: string;
  name: string;
  homePlatformId: string;
  specialties: string[];
  employer?: string | null;
}
export type ExpertPatch = Partial<Omit<ExpertInput, 'code'>>;

/** Fields only PROVINCIAL_ADMIN may read in a change record: an expert's name and employer are sealed (sealing.ts). */
const SEALED = ['name', 'employer'];
const MAX_TEXT = 200;

function text(field: string, value: string | null | undefined, options: { required: boolean; max?: number }) {
  const trimmed = (value ?? '').trim();
  if (options.required && !trimmed) throw badInput(field, 'must not be empty');
  const max = options.max ?? MAX_TEXT;
  if (trimmed.length > max) throw badInput(field, `must be at most ${max} characters`);
  return trimmed;
}

const reasonOf = (reason: string) => text('reason', reason, { required: true, max: 2000 });

/** A window's end, if given, must come after `from`: a window that ends before it starts is refused. */
function requireAfter(field: string, until: Date | null | undefined, from: Date, what: string): void {
  if (until != null && until.getTime() <= from.getTime())
    throw badInput(field, `${until.toISOString()} ends before ${what} (${from.toISOString()}); give a later ${field}`);
}

async function requirePlatform(platforms: PlatformLookup, field: string, id: string): Promise<void> {
  const [found] = await platforms.platformsByIds([id]);
  if (!found) throw badInput(field, `platform ${id} does not exist; give the id of a platform (platforms query)`);
}

async function uniqueSpecialties(core: ExpertsCore, names: readonly string[], field: string): Promise<string[]> {
  const trimmed = [...new Set(names.map((name) => name.trim()))];
  await requireKnownSpecialties(core.db, trimmed, field);
  return trimmed;
}

/** The expert's row, locked for the change. */
async function lockedExpert(trx: Transaction<ExpertsDatabase>, expertId: string): Promise<Expert> {
  const expert = await trx.selectFrom('expert').selectAll().where('id', '=', expertId).forUpdate().executeTakeFirst();
  if (!expert) throw notFound('expert', expertId);
  return expert;
}

async function reread(core: ExpertsCore, expertId: string): Promise<Expert> {
  return core.db.selectFrom('expert').selectAll().where('id', '=', expertId).executeTakeFirstOrThrow();
}

/** An expert as its change records show it. */
function recorded(expert: Pick<Expert, 'code' | 'name' | 'home_platform_id' | 'specialties' | 'employer' | 'status'>) {
  return {
    code: expert.code,
    name: expert.name,
    homePlatformId: expert.home_platform_id,
    specialties: expert.specialties,
    employer: expert.employer,
    status: expert.status,
  };
}

export async function registerExpert(
  core: ExpertsCore,
  platforms: PlatformLookup,
  identity: Identity,
  input: ExpertInput,
): Promise<Expert> {
  const code = text('input.code', input.code, { required: true, max: 64 });
  const name = text('input.name', input.name, { required: true });
  const employer = text('input.employer', input.employer, { required: false });
  await requirePlatform(platforms, 'input.homePlatformId', input.homePlatformId);
  const specialties = await uniqueSpecialties(core, input.specialties, 'input.specialties');
  const id = core.ids.next('exp');
  const takenBy = (holder: string) =>
    badInput('input.code', `code ${code} is already taken by expert ${holder}; codes are unique, choose another`);
  try {
    await core.db.transaction().execute(async (trx) => {
      const holder = await trx.selectFrom('expert').select('id').where('code', '=', code).executeTakeFirst();
      if (holder) throw takenBy(holder.id);
      const row = { id, code, name, phone: '', home_platform_id: input.homePlatformId, specialties, employer };
      await trx.insertInto('expert').values(row).execute();
      await recordMasterDataChange(trx, {
        actor: actorOf(identity),
        entityType: 'Expert',
        entityId: id,
        before: null,
        after: recorded({ ...row, status: 'ACTIVE' }),
        sealedFields: SEALED,
      });
    });
  } catch (error) {
    // Two registrations of one code at once: the unique constraint decides, the loser gets the same answer.
    if (sqlState(error) === DB_ERRORS.uniqueViolation) throw takenBy('registered meanwhile');
    throw error;
  }
  return reread(core, id);
}

export async function updateExpert(
  core: ExpertsCore,
  platforms: PlatformLookup,
  identity: Identity,
  expertId: string,
  patch: ExpertPatch,
): Promise<Expert> {
  const set: { name?: string; home_platform_id?: string; specialties?: string[]; employer?: string } = {};
  if (patch.name != null) set.name = text('patch.name', patch.name, { required: true });
  if (patch.employer != null) set.employer = text('patch.employer', patch.employer, { required: false });
  if (patch.homePlatformId != null) {
    await requirePlatform(platforms, 'patch.homePlatformId', patch.homePlatformId);
    set.home_platform_id = patch.homePlatformId;
  }
  if (patch.specialties != null)
    set.specialties = await uniqueSpecialties(core, patch.specialties, 'patch.specialties');
  await core.db.transaction().execute(async (trx) => {
    const before = await lockedExpert(trx, expertId);
    const after = { ...before, ...set };
    const was = recorded(before) as ChangeFields;
    const now = recorded(after) as ChangeFields;
    const changed = Object.keys(now).filter((key) => JSON.stringify(was[key]) !== JSON.stringify(now[key]));
    if (changed.length === 0) return;
    await trx.updateTable('expert').set(set).where('id', '=', expertId).execute();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'Expert',
      entityId: expertId,
      before: Object.fromEntries(changed.map((key) => [key, was[key]])),
      after: Object.fromEntries(changed.map((key) => [key, now[key]])),
      sealedFields: SEALED,
    });
  });
  return reread(core, expertId);
}

/**
 * An employment (avoidance grounds 1 and 2): a past one, or a current one (no end, or an end still ahead), which also
 * becomes the expert's employer.
 */
export async function recordEmployment(
  core: ExpertsCore,
  identity: Identity,
  args: { expertId: string; employer: string; from: Date; to?: Date | null },
): Promise<Expert> {
  const employer = text('employer', args.employer, { required: true });
  requireAfter('to', args.to, args.from, 'the employment starts');
  const now = core.clock.now();
  const current = args.from <= now && (args.to == null || args.to > now);
  await core.db.transaction().execute(async (trx) => {
    const before = await lockedExpert(trx, args.expertId);
    const employment = await trx
      .insertInto('employment')
      .values({
        expert_id: args.expertId,
        organisation: employer,
        relation: 'EMPLOYEE',
        started_on: chinaDay(args.from),
        ended_on: args.to == null ? null : chinaDay(args.to),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    if (current) await trx.updateTable('expert').set({ employer }).where('id', '=', args.expertId).execute();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'Expert',
      entityId: args.expertId,
      before: { employer: before.employer },
      after: {
        employer: current ? employer : before.employer,
        employment: { id: employment.id, from: chinaDay(args.from), to: args.to == null ? null : chinaDay(args.to) },
        employmentOrganisation: employer,
      },
      sealedFields: [...SEALED, 'employmentOrganisation'],
    });
  });
  return reread(core, args.expertId);
}

/**
 * A change that takes the expert out of draws (suspension, penalty, retirement): refused while the expert holds live
 * seats on evaluations not yet over, unless `withdrawSeats`; then, once the change committed (the expert can no longer
 * be drawn), each seat is replaced by the verifiable replacement draw.
 */
async function takeOutOfDraws(
  core: ExpertsCore,
  identity: Identity,
  expertId: string,
  action: string,
  withdraw: boolean,
  change: (trx: Transaction<ExpertsDatabase>, before: Expert) => Promise<{ before: ChangeFields; after: ChangeFields }>,
): Promise<Expert> {
  const seats = await core.db.transaction().execute(async (trx) => {
    // The row lock keeps a draw from seating the expert (its seat's foreign key waits on it) until the change commits.
    const before = await lockedExpert(trx, expertId);
    const held = await liveSeatsOf(trx, expertId, core.clock.now());
    if (held.length > 0 && !withdraw) throw seatsInTheWay(action, held);
    if (held.length > 0) await requireReplaceable(core, trx, expertId, held);
    const fields = await change(trx, before);
    // The record never names the seats, draws or projects: who sat on a committee stays sealed (DOMAIN.md, Sealing).
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'Expert',
      entityId: expertId,
      ...fields,
    });
    return held;
  });
  if (seats.length > 0) await withdrawSeats(core, seats);
  return reread(core, expertId);
}

function requireNotRetired(expert: Expert, action: string): void {
  if (expert.status === 'RETIRED')
    throw conflict(`expert ${expert.code} is retired; a retired expert cannot be ${action}`);
}

export function suspendExpert(
  core: ExpertsCore,
  identity: Identity,
  args: { expertId: string; until?: Date | null; reason: string; withdrawSeats?: boolean | null },
): Promise<Expert> {
  const reason = reasonOf(args.reason);
  requireAfter('until', args.until, core.clock.now(), 'now, when the suspension starts');
  return takeOutOfDraws(
    core,
    identity,
    args.expertId,
    'suspend the expert',
    args.withdrawSeats === true,
    async (trx, before) => {
      requireNotRetired(before, 'suspended');
      const until = args.until ?? null;
      await trx
        .updateTable('expert')
        .set({ status: 'SUSPENDED', suspended_until: until, suspension_reason: reason })
        .where('id', '=', args.expertId)
        .execute();
      return {
        before: {
          status: before.status,
          suspendedUntil: before.suspended_until,
          suspensionReason: before.suspension_reason,
        },
        after: { status: 'SUSPENDED' satisfies ExpertStatus, suspendedUntil: until, suspensionReason: reason },
      };
    },
  );
}

export async function reinstateExpert(core: ExpertsCore, identity: Identity, expertId: string): Promise<Expert> {
  await core.db.transaction().execute(async (trx) => {
    const before = await lockedExpert(trx, expertId);
    requireNotRetired(before, 'reinstated');
    if (before.status === 'ACTIVE') return;
    await trx
      .updateTable('expert')
      .set({ status: 'ACTIVE', suspended_until: null, suspension_reason: null })
      .where('id', '=', expertId)
      .execute();
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'Expert',
      entityId: expertId,
      before: {
        status: before.status,
        suspendedUntil: before.suspended_until,
        suspensionReason: before.suspension_reason,
      },
      after: { status: 'ACTIVE' satisfies ExpertStatus, suspendedUntil: null, suspensionReason: null },
    });
  });
  return reread(core, expertId);
}

/** A penalty for bidding offences from today (China time) until `until`, open-ended without it (avoidance ground 5). */
export function recordPenalty(
  core: ExpertsCore,
  identity: Identity,
  args: { expertId: string; reason: string; until?: Date | null; withdrawSeats?: boolean | null },
): Promise<Expert> {
  const reason = reasonOf(args.reason);
  const now = core.clock.now();
  requireAfter('until', args.until, now, 'now, when the penalty starts');
  const penalty = { imposedOn: chinaDay(now), until: args.until == null ? null : chinaDay(args.until), reason };
  return takeOutOfDraws(
    core,
    identity,
    args.expertId,
    'penalise the expert',
    args.withdrawSeats === true,
    async (trx) => {
      const row = await trx
        .insertInto('penalty')
        .values({ expert_id: args.expertId, reason, imposed_on: penalty.imposedOn, until: penalty.until })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { before: { penalty: null }, after: { penalty: { id: row.id, ...penalty } } };
    },
  );
}

export function retireExpert(
  core: ExpertsCore,
  identity: Identity,
  args: { expertId: string; withdrawSeats?: boolean | null },
): Promise<Expert> {
  return takeOutOfDraws(
    core,
    identity,
    args.expertId,
    'retire the expert',
    args.withdrawSeats === true,
    async (trx, before) => {
      await trx.updateTable('expert').set({ status: 'RETIRED' }).where('id', '=', args.expertId).execute();
      return { before: { status: before.status }, after: { status: 'RETIRED' satisfies ExpertStatus } };
    },
  );
}

/** Only the pool's administrator removes a declared conflict (experts may only add them): a recorded change. */
export async function removeConflict(
  core: ExpertsCore,
  identity: Identity,
  args: { expertId: string; organisation: string; kind: 'KINSHIP' | 'ECONOMIC_INTEREST' | 'OTHER' },
): Promise<Expert> {
  const organisation = text('organisation', args.organisation, { required: true });
  await core.db.transaction().execute(async (trx) => {
    await lockedExpert(trx, args.expertId);
    const removed = await trx
      .deleteFrom('declared_conflict')
      .where('expert_id', '=', args.expertId)
      .where('organisation', '=', organisation)
      .where('kind', '=', args.kind)
      .returning(['organisation', 'kind'])
      .executeTakeFirst();
    if (!removed) throw notFound('declared conflict', `${args.kind} with ${organisation} of expert ${args.expertId}`);
    await recordMasterDataChange(trx, {
      actor: actorOf(identity),
      entityType: 'DeclaredConflict',
      entityId: args.expertId,
      before: { organisation: removed.organisation, kind: removed.kind },
      after: null,
      sealedFields: ['organisation'],
    });
  });
  return reread(core, args.expertId);
}
