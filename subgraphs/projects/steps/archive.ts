// Step 8 of the workflow, 档案保存: the project's timeline is its tamper-evident archive; verifying and sealing it.
import { actorOf } from '../../../lib/authz';
import { conflict, forbidden } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import { eventHash, GENESIS_HASH, type Project, type ProjectEvent, type ProjectsService } from '../service';
import type { Json } from '../../../lib/canonical-json';
import type { DrawDesk } from '../desks';
import { recordAccessAttempts } from './evaluation';

export interface ArchiveVerification {
  projectId: string;
  intact: boolean;
  entries: number;
  /** The seq of the first entry whose link or hash does not match, null when the chain is intact. */
  firstBrokenEntry: number | null;
  /** The hash of the last entry as stored (the value to compare with a published or exported head). */
  head: string;
}

/**
 * Recomputes a project's hash chain (DOMAIN.md, The archive) from its entries in seq order. An entry is broken when its
 * seq is not the next one, its prevHash is not the previous entry's hash, or its hash is not
 * sha256(prevHash ‖ canonical JSON of the event); the first broken one is named.
 *
 * ```ts
 * verifyChain('prj_1', events).firstBrokenEntry; // null, or e.g. 7
 * ```
 */
export function verifyChain(projectId: string, events: readonly ProjectEvent[]): ArchiveVerification {
  let prevHash = GENESIS_HASH;
  let firstBrokenEntry: number | null = null;
  events.forEach((event, index) => {
    if (firstBrokenEntry !== null) return;
    const expected = eventHash(prevHash, {
      projectId,
      seq: event.seq,
      at: event.at.toISOString(),
      kind: event.kind,
      actor: event.actor,
      detail: event.detail,
      data: event.data as Json,
    });
    if (
      event.project_id !== projectId ||
      event.seq !== index + 1 ||
      event.prev_hash !== prevHash ||
      event.hash !== expected
    )
      firstBrokenEntry = event.seq;
    prevHash = event.hash;
  });
  return {
    projectId,
    intact: firstBrokenEntry === null,
    entries: events.length,
    firstBrokenEntry,
    head: events.at(-1)?.hash ?? GENESIS_HASH,
  };
}

/** Those who read the project read its archive's verification. */
export async function verifyProjectArchive(
  projects: ProjectsService,
  identity: Identity,
  projectId: string,
): Promise<ArchiveVerification> {
  const project = await projects.getProject(projectId);
  if (!(await projects.canRead(identity, project)))
    throw forbidden(`your role may not read project ${projectId} or its archive`);
  return verifyChain(projectId, await projects.eventsOfProjects([projectId]));
}

/**
 * Seals an EVALUATED project's archive: a host operator checks the chain is intact and moves the project to ARCHIVED,
 * whose event (the last the archive takes) records the head it sealed.
 */
export async function archiveProject(
  deps: { projects: ProjectsService; experts: DrawDesk },
  identity: Identity,
  projectId: string,
): Promise<Project> {
  const { projects } = deps;
  const project = await projects.getProject(projectId);
  if (identity.role !== 'PLATFORM_OPERATOR' || identity.platform !== project.host_platform_id) {
    throw forbidden(
      `only an operator of the host platform ${project.host_platform_id} may archive project ${project.id}`,
    );
  }
  // Attempts whose jobs have not run yet would find the archive sealed: write them before the seal.
  if (project.status === 'EVALUATED') await recordAccessAttempts(deps, projectId);
  return projects.inTransaction(async (trx) => {
    // The row lock first, so no event slips in between the verification and the seal.
    const locked = await trx
      .selectFrom('project')
      .select('status')
      .where('id', '=', projectId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (locked.status !== 'EVALUATED')
      throw conflict(`project ${project.code} is ${locked.status}; only an EVALUATED project is archived`);
    const events = await trx
      .selectFrom('project_event')
      .selectAll()
      .where('project_id', '=', projectId)
      .orderBy('seq')
      .execute();
    const verification = verifyChain(projectId, events);
    if (!verification.intact) {
      throw conflict(
        `the archive of project ${project.code} is broken at entry ${verification.firstBrokenEntry}; it cannot be sealed until the supervisors have examined it`,
      );
    }
    return projects.transitionIn(trx, projectId, {
      to: 'ARCHIVED',
      from: ['EVALUATED'],
      kind: 'ARCHIVED',
      actor: actorOf(identity),
      detail: `archive sealed after ${verification.entries} verified entries`,
      data: { verifiedEntries: verification.entries, verifiedHead: verification.head },
    });
  });
}
