// Requesting and running a draw: a PENDING draw with its sealed seed and groups, its run (every group filled by
// verifiable rounds, then the invitations, in one transaction), and the draw's later life: it fails and releases its
// seats, completes once the committee is confirmed, is unsealed when the evaluation starts, or is withdrawn with its
// project.
import { sql, type Transaction } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import { touched } from '../../lib/cache-tags';
import { noteChanged } from '../../lib/change-notes';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { conflict, notFound } from '../../lib/errors';
import { LIVE_SEAT_STATUSES, type Draw, type DrawOutcome, type DrawRequest, type ExpertsCore } from './core';
import type { EligibilityFacts } from './eligibility';
import {
  fillGroupOnce,
  inviteSeated,
  LostRace,
  MAX_ROUND_ATTEMPTS,
  recordLostRace,
  SEAT_WAIT,
  type DrawRun,
  type RoundRecord,
} from './rounds';
import { groupKeyOf, newSeed, seedCommitment } from './selection';
import type { ExpertsDatabase } from './types';

/**
 * Creates a PENDING draw with a fresh CSPRNG seed; only its commitment is published. The groups (room × specialty)
 * say how many experts of which specialty sit in which room.
 *
 * ```ts
 * const draw = await experts.requestDraw({ projectId, hostPlatformId: '411700', hostParentId: '410000', department: 'FINANCE',
 *   mode: 'REMOTE', startsAt, endsAt, supervisorNonce: null, groups: [{ bookingId, roomId, platformId, role: 'MAIN', specialty: 'LEGAL', seats: 2 }] });
 * ```
 */
export async function requestDraw(core: ExpertsCore, request: DrawRequest): Promise<Draw> {
  const seed = newSeed();
  const id = core.ids.next('drw');
  // A new draw becomes its project's `expertDraw`.
  noteChanged([...touched('Project', request.projectId), ...touched('ExpertDraw', id)]);
  // One statement inserts the draw and its groups, atomically, in one round trip.
  return core.db
    .with('requested', (db) =>
      db
        .insertInto('draw')
        .values({
          id,
          project_id: request.projectId,
          status: 'PENDING',
          seed_commitment: seedCommitment(seed),
          seed: seed.toString('hex'),
          supervisor_nonce: request.supervisorNonce,
          failure_reason: null,
          starts_at: request.startsAt,
          ends_at: request.endsAt,
          completed_at: null,
          host_platform_id: request.hostPlatformId,
          host_parent_id: request.hostParentId,
          department: request.department,
          mode: request.mode,
        })
        .returningAll(),
    )
    .with('grouped', (db) =>
      db.insertInto('draw_group').values(
        request.groups.map((group) => ({
          draw_id: id,
          group_key: groupKeyOf(group.roomId, group.specialty),
          booking_id: group.bookingId,
          room_id: group.roomId,
          platform_id: group.platformId,
          role: group.role,
          specialty: group.specialty,
          seats: group.seats,
        })),
      ),
    )
    .selectFrom('requested')
    .selectAll()
    .executeTakeFirstOrThrow();
}

/** Marks a draw FAILED with its reason and releases its live seats; nothing stays reserved. */
export async function failDraw(core: ExpertsCore, drawId: string, reason: string): Promise<void> {
  await core.db.transaction().execute(async (trx) => {
    const draw = await trx
      .selectFrom('draw')
      .select(['id', 'status'])
      .where('id', '=', drawId)
      .forUpdate()
      .executeTakeFirst();
    if (!draw || draw.status === 'FAILED') return;
    await markFailed(core, trx, drawId, reason);
  });
}

/** failDraw's writes, for a caller that holds the draw's row lock. */
async function markFailed(
  core: ExpertsCore,
  trx: Transaction<ExpertsDatabase>,
  drawId: string,
  reason: string,
): Promise<void> {
  await trx
    .updateTable('draw')
    .set({ status: 'FAILED', failure_reason: reason, completed_at: core.clock.now() })
    .where('id', '=', drawId)
    .execute();
  noteDrawsChanged([{ id: drawId }]);
  await trx
    .updateTable('committee_seat')
    .set({ status: 'WITHDRAWN', reason: `draw failed: ${reason}` })
    .where('draw_id', '=', drawId)
    .where('status', 'in', [...LIVE_SEAT_STATUSES])
    .execute();
}

/**
 * Runs a PENDING draw: fills every group in group-key order by verifiable rounds, then sends the invitations, all in
 * one transaction under the draw's row lock. If a group cannot be filled, the draw FAILS with INSUFFICIENT_EXPERTS'
 * reason and its seats are released. A round that loses a race for an expert rolls the whole run back (nobody saw
 * its other rounds, which consumed no stream) and is recorded as LOST_RACE; the run then starts again from fresh
 * candidate lists. Idempotent: a rerun fills only what is missing, and a draw no longer PENDING is left alone.
 */
export async function runDraw(core: ExpertsCore, drawId: string, facts: EligibilityFacts): Promise<DrawOutcome> {
  let lost: RoundRecord | null = null;
  for (let attempt = 1; attempt <= MAX_ROUND_ATTEMPTS; attempt++) {
    try {
      return await core.db.transaction().execute((trx) => runDrawOnce(core, trx, drawId, facts));
    } catch (error) {
      if (error instanceof LostRace) {
        lost = error.round;
        await recordLostRace(core, error.round);
      }
      // A deadlock or lock timeout outside the seat inserts rolled back rounds nobody saw: they consumed no stream, so just retry.
      else if (sqlState(error) !== DB_ERRORS.deadlockDetected && sqlState(error) !== DB_ERRORS.lockNotAvailable)
        throw error;
    }
  }
  const reason = `group ${lost?.group_key ?? '?'}: lost the race for experts ${MAX_ROUND_ATTEMPTS} times; draw again`;
  await failDraw(core, drawId, reason);
  return { kind: 'FAILED', reason };
}

async function runDrawOnce(
  core: ExpertsCore,
  trx: Transaction<ExpertsDatabase>,
  drawId: string,
  facts: EligibilityFacts,
): Promise<DrawOutcome> {
  // One statement: the draw's row lock, its facts fixed by the first run (a rerun keeps them), and its groups. Once
  // the row is locked (the select list is evaluated for the row the update returns), the run waits at most
  // SEAT_WAIT for another draw's uncommitted seat of the same expert: the whole run holds its seats until it
  // commits, and two runs waiting on each other's seats would otherwise wait out Postgres's deadlock_timeout (1 s).
  const row = await trx
    .with('fixed', (db) =>
      db
        .updateTable('draw')
        .set({ eligibility: sql`coalesce(eligibility, ${JSON.stringify(facts)}::jsonb)` })
        .where('id', '=', drawId)
        .returningAll(),
    )
    .selectFrom('fixed')
    .selectAll('fixed')
    .select((eb) =>
      jsonArrayFrom(
        eb
          .selectFrom('draw_group as g')
          .selectAll('g')
          .whereRef('g.draw_id', '=', 'fixed.id')
          .orderBy(sql`g.group_key collate "C"`),
      ).as('groups'),
    )
    .select(sql<string>`set_config('lock_timeout', ${SEAT_WAIT}, true)`.as('lock_timeout'))
    .executeTakeFirst();
  if (!row) throw notFound('draw', drawId);
  const { groups, lock_timeout: _, ...draw } = row;
  if (draw.status !== 'PENDING') return { kind: 'SKIPPED', why: `the draw is ${draw.status}` };
  const run: DrawRun = { groups, lists: new Map() };
  for (const group of run.groups) {
    const outcome = await fillGroupOnce(core, trx, draw, group.group_key, null, run);
    if (outcome.kind === 'INSUFFICIENT') {
      await markFailed(core, trx, drawId, outcome.reason);
      return { kind: 'FAILED', reason: outcome.reason };
    }
    if (outcome.kind === 'SKIPPED') return outcome;
  }
  return { kind: 'SEATED', seats: await inviteSeated(core, trx, drawId) };
}

/**
 * Once the committee is confirmed: the draw COMPLETES. Its seed stays sealed until the evaluation starts
 * (unsealCommittee; experts/sealing.ts): with it, the candidate digests and the pool, the committee can be recomputed.
 */
export async function completeDraw(core: ExpertsCore, drawId: string): Promise<void> {
  const draw = await core.db
    .updateTable('draw')
    .set({ status: 'COMPLETED', completed_at: core.clock.now() })
    .where('id', '=', drawId)
    .where('status', 'in', ['PENDING', 'COMPLETED'])
    .returning(['id'])
    .executeTakeFirst();
  if (!draw) throw conflict(`draw ${drawId} failed; it cannot complete`);
  noteDrawsChanged([{ id: drawId }]);
}

/** The evaluation started: from now on the host's operators and the project's supervisors see the committee, and the seeds are revealed. */
export async function unsealCommittee(core: ExpertsCore, projectId: string): Promise<void> {
  const unsealed = await core.db
    .updateTable('draw')
    .set({ unsealed_at: core.clock.now(), seed_revealed: true })
    .where('project_id', '=', projectId)
    .where('status', '<>', 'FAILED')
    .where('unsealed_at', 'is', null)
    .returning('id')
    .execute();
  noteDrawsChanged(unsealed);
}

/** Notes that these draws changed (lib/change-notes.ts), for the response cache's tags. */
function noteDrawsChanged(draws: readonly { id: string }[]): void {
  for (const draw of draws) noteChanged(touched('ExpertDraw', draw.id));
}

/** The project was cancelled: its live seats are released and a pending draw fails. */
export async function withdrawProjectSeats(
  core: ExpertsCore,
  projectId: string,
  reason = 'project cancelled',
): Promise<number> {
  return core.db.transaction().execute(async (trx) => {
    const failed = await trx
      .updateTable('draw')
      .set({ status: 'FAILED', failure_reason: reason, completed_at: core.clock.now() })
      .where('project_id', '=', projectId)
      .where('status', '=', 'PENDING')
      .returning('id')
      .execute();
    noteDrawsChanged(failed);
    const released = await trx
      .updateTable('committee_seat')
      .set({ status: 'WITHDRAWN', reason })
      .where('project_id', '=', projectId)
      .where('status', 'in', [...LIVE_SEAT_STATUSES])
      .executeTakeFirst();
    return Number(released.numUpdatedRows);
  });
}
