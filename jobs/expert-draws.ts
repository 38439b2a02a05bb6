// The expert-draws queue: running a requested draw, replacing declined seats, expiring unanswered invitations and
// confirming the committee. The project facts come from the projects and venues domains and go to the experts domain
// as plain data; every handler is idempotent (the services check state, timeline events carry keys).
import { codeOf } from '../lib/errors';
import type { DrawOutcome, EligibilityFacts } from '../subgraphs/experts';
import type { NewEvent, Project } from '../subgraphs/projects';
import type { JobServices, QueueHandlers } from './contracts';

const ACTOR = 'system:expert-draws';

/**
 * The timeline's record of a seated draw. Keyed, so it is written once, by the draw's run or, if that run was cut short
 * after seating and the committee was confirmed before it ran again, ahead of the confirmation.
 */
function expertsDrawn(drawId: string, seats: number): NewEvent {
  return {
    kind: 'EXPERTS_DRAWN',
    actor: ACTOR,
    detail: `${seats} expert(s) selected by draw ${drawId} and invited`,
    data: { drawId, seats },
    key: `experts_drawn:${drawId}`,
  };
}

/** The facts eligibility needs, gathered from the projects and venues domains (the platform tree for the regional rule). */
export async function eligibilityFactsOf(
  services: JobServices,
  project: Project,
  drawId: string,
): Promise<EligibilityFacts> {
  const { venues, experts } = services;
  const [host] = await venues.platformsByIds([project.host_platform_id]);
  // For a county host, the host region is its parent city's subtree.
  const root = host?.level === 'COUNTY' && host.parent_id ? host.parent_id : project.host_platform_id;
  const hostRegion = [root, ...(await venues.childrenOfPlatforms([root])).map((platform) => platform.id)];
  const groups = await experts.groupsOfDraw(drawId);
  const secondary = project.mode === 'REMOTE' ? groups.filter((group) => group.role === 'SECONDARY') : [];
  const secondaryPlatforms = [...new Set(secondary.map((group) => group.platform_id))];
  const children = secondaryPlatforms.length > 0 ? await venues.childrenOfPlatforms(secondaryPlatforms) : [];
  const pools: EligibilityFacts['pools'] = {};
  for (const group of groups) {
    pools[group.group_key] = secondary.includes(group)
      ? [
          group.platform_id,
          ...children.filter((child) => child.parent_id === group.platform_id).map((child) => child.id),
        ]
      : null;
  }
  return {
    projectId: project.id,
    tenderer: project.tenderer,
    agency: project.agency,
    bidders: project.bidders,
    department: project.department,
    hostRegion,
    mode: project.mode,
    startsAt: project.evaluation_starts_at.toISOString(),
    endsAt: project.evaluation_ends_at.toISOString(),
    pools,
  };
}

/** A failed draw returns the project to FEE_ADVANCED with the reason on its timeline, so the operator can draw again. */
async function returnToFeeAdvanced(
  services: JobServices,
  projectId: string,
  drawId: string,
  reason: string,
): Promise<void> {
  try {
    await services.projects.transition(projectId, {
      to: 'FEE_ADVANCED',
      from: ['EXPERTS_DRAWING'],
      kind: 'EXPERT_DRAW_FAILED',
      actor: ACTOR,
      detail: reason,
      data: { drawId },
    });
  } catch (error) {
    // Already moved (a rerun of this job, or the project was cancelled meanwhile): nothing left to undo.
    if (codeOf(error) !== 'CONFLICT') throw error;
  }
}

async function followUp(
  services: JobServices,
  projectId: string,
  drawId: string,
  outcome: DrawOutcome,
): Promise<string> {
  if (outcome.kind === 'FAILED') await returnToFeeAdvanced(services, projectId, drawId, outcome.reason);
  return outcome.kind === 'SKIPPED' ? `skipped: ${outcome.why}` : outcome.kind;
}

async function runDraw(services: JobServices, drawId: string): Promise<string> {
  const { experts, projects } = services;
  const draw = await experts.getDraw(drawId);
  const project = await projects.getProject(draw.project_id);
  if (draw.status === 'FAILED') {
    // A run cut short between failing the draw and moving the project back: finish it.
    if (project.status === 'EXPERTS_DRAWING')
      await returnToFeeAdvanced(services, project.id, drawId, draw.failure_reason ?? 'the draw failed');
    return 'FAILED';
  }
  if (draw.status !== 'PENDING') return `skipped: the draw is ${draw.status}`;
  if (project.status !== 'EXPERTS_DRAWING') {
    await experts.failDraw(drawId, `project ${project.code} is ${project.status}, no longer drawing`);
    return 'FAILED';
  }
  const outcome = await experts.runDraw(drawId, await eligibilityFactsOf(services, project, drawId));
  if (outcome.kind === 'SEATED') await projects.appendEvent(project.id, expertsDrawn(drawId, outcome.seats));
  return followUp(services, project.id, drawId, outcome);
}

async function replaceDeclined(services: JobServices, seatId: string): Promise<string> {
  const { experts, projects } = services;
  const seat = await experts.getSeat(seatId);
  await projects.appendEvent(seat.project_id, {
    kind: 'INVITATION_DECLINED',
    actor: ACTOR,
    detail: `seat ${seat.id} declined: ${seat.reason ?? 'no reason given'}`,
    data: { seatId: seat.id, drawId: seat.draw_id, round: seat.round },
    key: `invitation_declined:${seat.id}`,
  });
  const outcome = await experts.replaceDeclinedSeat(seatId);
  if (outcome.kind === 'SEATED') {
    await projects.appendEvent(seat.project_id, {
      kind: 'EXPERT_REPLACEMENT_DRAWN',
      actor: ACTOR,
      detail: `seat ${seat.id} replaced by the next round of its group (${seat.specialty} in room ${seat.room_id})`,
      data: { replacedSeatId: seat.id, drawId: seat.draw_id },
      key: `replacement_drawn:${seat.id}`,
    });
  }
  return followUp(services, seat.project_id, seat.draw_id, outcome);
}

/**
 * Every seat accepted: the project's committee is confirmed. The seed stays sealed until the evaluation starts (the
 * timeline records it then, steps/evaluation.ts): with it and the pool the committee could be recomputed.
 */
async function confirmCommittee(services: JobServices, drawId: string): Promise<string> {
  const { experts, projects } = services;
  if (!(await experts.committeeComplete(drawId))) return 'skipped: not every seat is accepted';
  const draw = await experts.getDraw(drawId);
  if (draw.status === 'FAILED') return 'skipped: the draw failed';
  const project = await projects.getProject(draw.project_id);
  if (project.status === 'EXPERTS_DRAWING') {
    // A draw job killed between seating and recording it may run again only after this one (its draw COMPLETED, so
    // it skips): the record goes first here, unless it is already on the timeline.
    const seats = (await experts.groupsOfDraw(drawId)).reduce((sum, group) => sum + group.seats, 0);
    try {
      await projects.transition(project.id, {
        events: [expertsDrawn(drawId, seats)],
        to: 'COMMITTEE_CONFIRMED',
        from: ['EXPERTS_DRAWING'],
        kind: 'COMMITTEE_CONFIRMED',
        actor: ACTOR,
        detail: `every seat accepted; the seed of draw ${drawId} is revealed when the evaluation starts`,
        data: { drawId, seedCommitment: draw.seed_commitment, supervisorNonce: draw.supervisor_nonce },
      });
    } catch (error) {
      if (codeOf(error) !== 'CONFLICT') throw error;
    }
  }
  const now = await projects.getProject(project.id);
  if (now.status === 'CANCELLED') return 'skipped: the project was cancelled';
  await experts.completeDraw(drawId);
  return 'COMMITTEE_CONFIRMED';
}

export function createExpertDrawHandlers(
  services: JobServices,
): Omit<QueueHandlers<'expert-draws'>, 'record-access-attempt'> {
  return {
    draw: (job) => runDraw(services, job.data.drawId),
    replace: (job) => replaceDeclined(services, job.data.seatId),
    'invitation-timeout': (job) => services.experts.expireInvitation(job.data.seatId),
    'committee-complete': (job) => confirmCommittee(services, job.data.drawId),
  };
}
