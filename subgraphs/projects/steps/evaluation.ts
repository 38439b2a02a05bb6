// Step 7 of the workflow, 评标评审: the host's operator starts the evaluation once the whole committee is checked in,
// replaces a member who must withdraw by the same verifiable draw, and records the digest of the evaluation report.
import { actorOf, requirePlatform, requireRole } from '../../../lib/authz';
import { badInput, conflict } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import type { DrawDesk } from '../desks';
import type { Project, ProjectsService } from '../service';

export interface EvaluationDependencies {
  projects: ProjectsService;
  experts: DrawDesk;
}

const REPORT_DIGEST = /^[0-9a-f]{64}$/;

async function hostProject(
  deps: EvaluationDependencies,
  identity: Identity,
  projectId: string,
  action: string,
): Promise<Project> {
  requireRole(identity, ['PLATFORM_OPERATOR'], action);
  const project = await deps.projects.getProject(projectId);
  requirePlatform(identity, project.host_platform_id, `${action} of project ${project.id}`);
  return project;
}

/** Refuses unless every live seat of the project is CHECKED_IN and the seats fill the drawn part of the committee. */
async function requireCommitteeCheckedIn(deps: EvaluationDependencies, project: Project): Promise<number> {
  const live = await deps.experts.seatsOfProject(project.id, { liveOnly: true });
  const waiting = live.filter((seat) => seat.status !== 'CHECKED_IN');
  const wanted = project.committee_size - project.tenderer_representatives;
  if (waiting.length > 0 || live.length < wanted) {
    const seats = waiting.map((seat) => `${seat.id} (${seat.status})`).join(', ');
    throw conflict(
      `${live.length - waiting.length} of the ${wanted} expert seats of project ${project.code} are checked in${seats ? `; waiting for ${seats}` : ''}`,
    );
  }
  return live.length;
}

/**
 * Writes every attempt to enter the project's evaluation area onto its timeline now, in the order they happened, rather
 * than when their jobs run: a step that follows them (the start, the completion, the seal) then comes after them in the
 * archive. Idempotent with the jobs (the same event keys).
 */
export async function recordAccessAttempts(deps: EvaluationDependencies, projectId: string): Promise<void> {
  for (const attempt of await deps.experts.accessAttemptsOfProject(projectId)) {
    await deps.projects.appendEvent(projectId, { ...attempt.event, key: `access_attempt:${attempt.id}` });
  }
}

/**
 * The seal lifted: the archive records each unsealed draw's seed now, never earlier (DOMAIN.md, A verifiable draw).
 * Idempotent (one event key per draw), and repeated by the completion in case the start stopped before writing them.
 */
async function recordRevealedSeeds(deps: EvaluationDependencies, projectId: string, actor: string): Promise<void> {
  for (const draw of (await deps.experts.drawsOfProject(projectId)).filter((candidate) => candidate.sealLifted)) {
    await deps.projects.appendEvent(projectId, {
      kind: 'DRAW_SEED_REVEALED',
      actor,
      detail: `the evaluation started; the seed of draw ${draw.id} is revealed for verification`,
      data: {
        drawId: draw.id,
        seed: draw.revealedSeed,
        seedCommitment: draw.seed_commitment,
        supervisorNonce: draw.supervisor_nonce,
      },
      key: `seed_revealed:${draw.id}`,
    });
  }
}

/**
 * Starts the evaluation: a host operator, on a COMMITTEE_CONFIRMED project whose every seat is CHECKED_IN. The project
 * goes IN_EVALUATION and the committee is unsealed for the host's operators and the project's supervisors.
 */
export async function startEvaluation(
  deps: EvaluationDependencies,
  identity: Identity,
  projectId: string,
): Promise<Project> {
  const project = await hostProject(deps, identity, projectId, 'start the evaluation');
  if (project.status !== 'COMMITTEE_CONFIRMED')
    throw conflict(
      `project ${project.code} is ${project.status}; the evaluation starts once its committee is confirmed (COMMITTEE_CONFIRMED)`,
    );
  const seats = await requireCommitteeCheckedIn(deps, project);
  await recordAccessAttempts(deps, projectId);
  const started = await deps.projects.transition(projectId, {
    to: 'IN_EVALUATION',
    from: ['COMMITTEE_CONFIRMED'],
    kind: 'EVALUATION_STARTED',
    actor: actorOf(identity),
    detail: `evaluation started with ${seats} expert(s) checked in`,
    data: { checkedIn: seats },
  });
  // After the state change commits: unsealing a committee whose evaluation did not start would be the worse failure.
  await deps.experts.unsealCommittee(projectId);
  await recordRevealedSeeds(deps, projectId, actorOf(identity));
  return started;
}

/**
 * Replaces a committee member who must withdraw during the evaluation: the seat leaves the committee with the reason
 * (REPLACED) and the next round of its group draws the replacement, invited and checked in like any other member.
 */
export async function replaceCommitteeMember(
  deps: EvaluationDependencies,
  identity: Identity,
  seatId: string,
  reason: string,
): Promise<Project> {
  // The reason is checked by the experts domain, which owns the replacement (drawReplacement).
  const trimmed = reason.trim();
  const seat = await deps.experts.getSeat(seatId);
  const project = await hostProject(deps, identity, seat.project_id, 'replace a committee member');
  if (project.status !== 'IN_EVALUATION')
    throw conflict(
      `project ${project.code} is ${project.status}; a member is replaced this way during the evaluation (IN_EVALUATION)`,
    );
  const replacement = await deps.experts.drawReplacement(seatId, trimmed);
  await deps.projects.appendEvent(project.id, {
    kind: 'MEMBER_REPLACED',
    actor: actorOf(identity),
    detail: `seat ${seatId} withdrawn (${trimmed}); seat ${replacement.id} drawn in round ${replacement.round} of its group and invited`,
    data: { seatId, replacementSeatId: replacement.id, round: replacement.round, drawId: replacement.draw_id },
    key: `member_replaced:${seatId}`,
  });
  return deps.projects.getProject(project.id);
}

/** Ends the evaluation with the SHA-256 digest of its report (64 hex digits), once every seat is checked in. */
export async function completeEvaluation(
  deps: EvaluationDependencies,
  identity: Identity,
  projectId: string,
  reportDigest: string,
): Promise<Project> {
  const digest = reportDigest.trim().toLowerCase();
  if (!REPORT_DIGEST.test(digest))
    throw badInput('reportDigest', 'give the SHA-256 of the evaluation report as 64 hexadecimal digits');
  const project = await hostProject(deps, identity, projectId, 'complete the evaluation');
  if (project.status !== 'IN_EVALUATION')
    throw conflict(
      `project ${project.code} is ${project.status}; only an evaluation under way (IN_EVALUATION) is completed`,
    );
  await requireCommitteeCheckedIn(deps, project);
  await recordAccessAttempts(deps, projectId);
  // The project is IN_EVALUATION: finish the start's unsealing if it stopped short (both steps are idempotent).
  await deps.experts.unsealCommittee(projectId);
  await recordRevealedSeeds(deps, projectId, actorOf(identity));
  return deps.projects.transition(projectId, {
    to: 'EVALUATED',
    from: ['IN_EVALUATION'],
    kind: 'EVALUATION_COMPLETED',
    actor: actorOf(identity),
    detail: `evaluation completed; report digest ${digest}`,
    data: { reportDigest: digest },
  });
}
