// Reading draws and what they made: the draws, their groups and rounds, and the committee seats, for the resolvers'
// loaders, the workflow steps that follow a draw, and a project's archive.
import { sql } from 'kysely';
import { notFound } from '../../lib/errors';
import type { CommitteeSeat, Draw, DrawGroup, DrawRound, ExpertsCore } from './core';

export function drawsByIds(core: ExpertsCore, ids: readonly string[]): Promise<Draw[]> {
  return core.db
    .selectFrom('draw')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export async function getDraw(core: ExpertsCore, id: string): Promise<Draw> {
  const draw = await core.db.selectFrom('draw').selectAll().where('id', '=', id).executeTakeFirst();
  if (!draw) throw notFound('draw', id);
  return draw;
}

/** The latest draw of each project. */
export function latestDrawsOfProjects(core: ExpertsCore, projectIds: readonly string[]): Promise<Draw[]> {
  return core.db
    .selectFrom('draw')
    .selectAll()
    .distinctOn('project_id')
    .where('project_id', 'in', [...projectIds])
    .orderBy('project_id')
    .orderBy('requested_at', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

/**
 * Every draw of a project, in the order requested: the archive keeps failed draws too, since their rounds used the
 * stream and a verifier recomputes them.
 */
export function drawsOfProject(core: ExpertsCore, projectId: string): Promise<Draw[]> {
  return core.db
    .selectFrom('draw')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('requested_at')
    .orderBy('id')
    .execute();
}

export function seatsByIds(core: ExpertsCore, ids: readonly string[]): Promise<CommitteeSeat[]> {
  return core.db
    .selectFrom('committee_seat')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
}

export async function getSeat(core: ExpertsCore, id: string): Promise<CommitteeSeat> {
  const seat = await core.db.selectFrom('committee_seat').selectAll().where('id', '=', id).executeTakeFirst();
  if (!seat) throw notFound('committee seat', id);
  return seat;
}

export function seatsOfDraws(core: ExpertsCore, drawIds: readonly string[]): Promise<CommitteeSeat[]> {
  return core.db
    .selectFrom('committee_seat')
    .selectAll()
    .where('draw_id', 'in', [...drawIds])
    .orderBy('draw_id')
    .orderBy('room_id')
    .orderBy('specialty')
    .orderBy('round')
    .orderBy('id')
    .execute();
}

/** Every seat of a project's draws, for the workflow steps that follow (check-in, evaluation, replacement). */
export function seatsOfProject(
  core: ExpertsCore,
  projectId: string,
  options: { liveOnly?: boolean } = {},
): Promise<CommitteeSeat[]> {
  let query = core.db.selectFrom('committee_seat').selectAll().where('project_id', '=', projectId);
  if (options.liveOnly) query = query.where('live', '=', true);
  return query.orderBy('created_at').orderBy('id').execute();
}

/** An expert's invitations, newest first (seats whose invitation was sent). */
export function invitationsOfExpert(core: ExpertsCore, expertId: string): Promise<CommitteeSeat[]> {
  return core.db
    .selectFrom('committee_seat')
    .selectAll()
    .where('expert_id', '=', expertId)
    .where('invited_at', 'is not', null)
    .orderBy('invited_at', 'desc')
    .orderBy('id')
    .execute();
}

export function groupsOfDraw(core: ExpertsCore, drawId: string): Promise<DrawGroup[]> {
  return core.db
    .selectFrom('draw_group')
    .selectAll()
    .where('draw_id', '=', drawId)
    .orderBy(sql`group_key collate "C"`)
    .execute();
}

export function roundsOfDraw(core: ExpertsCore, drawId: string): Promise<DrawRound[]> {
  return core.db
    .selectFrom('draw_round')
    .selectAll()
    .where('draw_id', '=', drawId)
    .orderBy(sql`group_key collate "C"`)
    .orderBy('round')
    .execute();
}
