// Cancelling a project at any step before it ends: the state change and a 'project-cancelled' outbox message in one
// transaction; jobs/cancellation.ts then releases what the project holds in other domains.
import { actorOf } from '../../../lib/authz';
import { badInput, conflict, forbidden } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import { projectCancelledMessage } from '../../../jobs/catalogue';
import type { Project, ProjectsService } from '../service';
import { TERMINAL_STATES } from '../workflow';

/**
 * An operator of the host platform (or a PROVINCIAL_ADMIN) cancels a project that has not ended, saying why.
 *
 * ```ts
 * await cancelProject(projects, operator, 'prj_…', '招标人撤回招标');
 * ```
 */
export async function cancelProject(
  projects: ProjectsService,
  identity: Identity,
  projectId: string,
  reason: string,
): Promise<Project> {
  if (identity.role !== 'PLATFORM_OPERATOR' && identity.role !== 'PROVINCIAL_ADMIN') {
    throw forbidden(
      `only an operator of the host platform or a PROVINCIAL_ADMIN may cancel a project; your role is ${identity.role}`,
    );
  }
  const project = await projects.getProject(projectId);
  if (identity.role === 'PLATFORM_OPERATOR' && identity.platform !== project.host_platform_id) {
    throw forbidden(
      `only operators of platform ${project.host_platform_id} may cancel project ${project.id}; your token is for ${identity.platform}`,
    );
  }
  const trimmed = reason.trim();
  if (!trimmed) throw badInput('reason', 'say why the project is cancelled');
  if (trimmed.length > 2000) throw badInput('reason', 'must be at most 2000 characters');
  if (TERMINAL_STATES.includes(project.status))
    throw conflict(`project ${project.code} is ${project.status} and can no longer be cancelled`);
  return projects.transition(project.id, {
    to: 'CANCELLED',
    kind: 'CANCELLED',
    actor: actorOf(identity),
    detail: trimmed,
    outbox: [projectCancelledMessage({ projectId: project.id, reason: trimmed })],
  });
}
