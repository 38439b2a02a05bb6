// The projects domain: submission, filing, the workflow's state changes, the timeline with its hash chain.
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import { actorOf } from '../../lib/authz';
import { canonicalJson, type Json } from '../../lib/canonical-json';
import type { Clock, IdGenerator } from '../../lib/clock';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { badInput, conflict, forbidden, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { noteChanged } from '../../lib/change-notes';
import { touched } from '../../lib/cache-tags';
import { writeOutbox } from '../../lib/outbox';
import type { HubJobMessage, JobCatalogue } from '../../jobs/catalogue';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import { ledgerOfProjects, partnerBalances, type LedgerEntry, type PartnerBalance } from './ledger';
import { ReconciliationService } from './reconciliation';
import { checkSubmission, type SubmitProjectInput } from './rules';
import type { ProjectEventTable, ProjectsDatabase, ProjectStatus, ProjectTable } from './types';
import { canTransition, statesLeadingTo } from './workflow';

export type Project = Selectable<ProjectTable>;
export type ProjectEvent = Selectable<ProjectEventTable>;

/** What the projects domain needs to know of platforms: the venues domain answers it. */
export interface PlatformDirectory {
  platformsByIds(ids: readonly string[]): Promise<{ id: string; parent_id: string | null }[]>;
  childrenOfPlatforms(ids: readonly string[]): Promise<{ id: string; parent_id: string | null }[]>;
}

export const GENESIS_HASH = '0'.repeat(64);

export interface NewEvent {
  kind: string;
  actor: string;
  detail?: string | null;
  data?: { [key: string]: Json };
  /** Makes the append idempotent: an event with a key already recorded is not recorded again. */
  key?: string;
}

export interface TransitionRequest extends NewEvent {
  to: ProjectStatus;
  /** Only from these states (a subset of those the state machine allows), when the step is narrower. */
  from?: readonly ProjectStatus[];
  /** Column changes made together with the state change. */
  set?: { fee_advance?: string | bigint };
  /** Jobs to start once the change commits. */
  outbox?: HubJobMessage[];
  /** Events appended just before the transition's own, in the same transaction (what led to it). */
  events?: NewEvent[];
}

export function eventHash(
  prevHash: string,
  event: { projectId: string; seq: number; at: string; kind: string; actor: string; detail: string | null; data: Json },
): string {
  return createHash('sha256').update(prevHash).update(canonicalJson(event)).digest('hex');
}

export class ProjectsService {
  /** The reconciliation reports (stored in this domain's schema). */
  readonly reconciliation: ReconciliationService;

  constructor(
    private readonly db: Kysely<ProjectsDatabase>,
    private readonly platforms: PlatformDirectory,
    private readonly clock: Clock,
    private readonly ids: IdGenerator,
  ) {
    this.reconciliation = new ReconciliationService(db);
  }

  /**
   * Runs `work` in one transaction of this domain's schema: for the domain's own steps (subgraphs/projects/steps),
   * which lock, transition and append within it. Nothing outside the projects domain calls it; they use the methods.
   */
  inTransaction<T>(work: (trx: Transaction<ProjectsDatabase>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(work);
  }

  /** The ledger entries of projects, by project then time. */
  ledgerOf(projectIds: readonly string[]): Promise<LedgerEntry[]> {
    return ledgerOfProjects(this.db, projectIds);
  }

  /** The net unsettled balance of a platform with each partner. */
  partnerBalances(platformId: string): Promise<PartnerBalance[]> {
    return partnerBalances(this.db, platformId);
  }

  projectsByIds(ids: readonly string[]): Promise<Project[]> {
    return this.db
      .selectFrom('project')
      .selectAll()
      .where('id', 'in', [...ids])
      .execute();
  }

  eventsOfProjects(ids: readonly string[]): Promise<ProjectEvent[]> {
    return this.db
      .selectFrom('project_event')
      .selectAll()
      .where('project_id', 'in', [...ids])
      .orderBy('project_id')
      .orderBy('seq')
      .execute();
  }

  async getProject(id: string): Promise<Project> {
    const project = await this.db.selectFrom('project').selectAll().where('id', '=', id).executeTakeFirst();
    if (!project) throw notFound('project', id);
    return project;
  }

  /** 申请提交: an AGENCY for its own organisation, or an operator of the host platform. */
  async submitProject(identity: Identity, raw: SubmitProjectInput): Promise<Project> {
    if (identity.role === 'AGENCY') {
      if (identity.org !== raw.agency.trim())
        throw forbidden(`an agency submits only its own projects: input.agency must be "${identity.org}"`);
    } else if (identity.role === 'PLATFORM_OPERATOR') {
      if (identity.platform !== raw.hostPlatformId)
        throw forbidden(
          `an operator submits projects of its own platform only: input.hostPlatformId must be ${identity.platform}`,
        );
    } else {
      throw forbidden(
        `only an AGENCY or a PLATFORM_OPERATOR of the host platform may submit a project; your role is ${identity.role}`,
      );
    }
    const input = checkSubmission(raw, this.clock.now());
    const [host] = await this.platforms.platformsByIds([input.hostPlatformId]);
    if (!host)
      throw badInput(
        'input.hostPlatformId',
        `no platform ${input.hostPlatformId} is known; use a region code from platforms`,
      );
    const id = this.ids.next('prj');
    try {
      return await this.db.transaction().execute(async (trx) => {
        const project = await trx
          .insertInto('project')
          .values({
            id,
            code: input.code,
            name: input.name,
            category: input.category,
            department: input.department,
            host_platform_id: input.hostPlatformId,
            tenderer: input.tenderer,
            agency: input.agency,
            bidders: input.bidders,
            budget: input.budget,
            mode: input.mode,
            procurement_method: input.procurementMethod ?? 'OPEN',
            committee_size: input.committeeSize,
            tenderer_representatives: input.tendererRepresentatives,
            evaluation_starts_at: input.evaluationStartsAt,
            evaluation_ends_at: input.evaluationEndsAt,
            status: 'SUBMITTED',
            fee_advance: null,
            submitted_by: actorOf(identity),
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        noteChanged(touched('Project', id));
        await this.appendEventsIn(trx, id, [
          {
            kind: 'SUBMITTED',
            actor: actorOf(identity),
            detail: `project ${input.code} submitted for filing`,
            data: { code: input.code },
          },
        ]);
        return project;
      });
    } catch (error) {
      if (sqlState(error) === DB_ERRORS.uniqueViolation)
        throw badInput('input.code', `a project with code ${input.code} already exists; choose another code`);
      throw error;
    }
  }

  /** 备案: a SUPERVISOR of the project's department, on the host platform or its parent, approves or rejects. */
  async fileProject(identity: Identity, projectId: string, approve: boolean, note: string | null): Promise<Project> {
    const project = await this.getProject(projectId);
    if (identity.role !== 'SUPERVISOR')
      throw forbidden(`only a SUPERVISOR of ${project.department} may file a project; your role is ${identity.role}`);
    if (identity.department !== project.department)
      throw forbidden(`this project is supervised by ${project.department}; your department is ${identity.department}`);
    const [host] = await this.platforms.platformsByIds([project.host_platform_id]);
    if (identity.platform !== project.host_platform_id && identity.platform !== host?.parent_id) {
      throw forbidden(`only supervisors of platform ${project.host_platform_id} or its parent may file this project`);
    }
    const trimmed = note?.trim() || null;
    if (!approve && !trimmed) throw badInput('note', 'say why the filing is rejected');
    if (trimmed && trimmed.length > 2000) throw badInput('note', 'must be at most 2000 characters');
    return this.transition(projectId, {
      to: approve ? 'FILED' : 'REJECTED',
      kind: approve ? 'FILED' : 'REJECTED',
      actor: actorOf(identity),
      detail: trimmed ?? (approve ? 'filing approved' : null),
    });
  }

  /** The projects a caller may list: an agency its own, an operator or partner its platform's, a supervisor its department's in its region. */
  async listProjects(
    identity: Identity,
    args: { status?: ProjectStatus; hostPlatformId?: string; first?: number | null; after?: string | null },
  ): Promise<Connection<Project>> {
    const limit = pageSize(args.first);
    const cursor = decodeCursor(args.after, 2);
    let query = this.db.selectFrom('project');
    if (args.status) query = query.where('status', '=', args.status);
    if (args.hostPlatformId) query = query.where('host_platform_id', '=', args.hostPlatformId);
    switch (identity.role) {
      case 'PROVINCIAL_ADMIN':
        break;
      case 'AGENCY':
        query = query.where('agency', '=', identity.org!);
        break;
      case 'PLATFORM_OPERATOR':
      case 'PARTNER_SYSTEM':
        query = query.where('host_platform_id', '=', identity.platform);
        break;
      case 'SUPERVISOR': {
        const region = [
          identity.platform,
          ...(await this.platforms.childrenOfPlatforms([identity.platform])).map((child) => child.id),
        ];
        query = query.where('department', '=', identity.department!).where('host_platform_id', 'in', region);
        break;
      }
      case 'EXPERT':
        throw forbidden('experts see their invitations (myInvitations), not the project list');
    }
    const total = await query.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    let pageQuery = query.selectAll();
    if (cursor) {
      const [createdAt, id] = cursor as [string, string];
      pageQuery = pageQuery.where(sql<boolean>`(created_at, id) < (${new Date(createdAt)}, ${id})`);
    }
    const rows = await pageQuery
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    return toConnection(rows, limit, Number(total.count), (row) => [row.created_at.toISOString(), row.id]);
  }

  /** Whether a caller may read a project (the same rule as listProjects, for one project). */
  async canRead(identity: Identity, project: Project): Promise<boolean> {
    switch (identity.role) {
      case 'PROVINCIAL_ADMIN':
        return true;
      case 'AGENCY':
        return project.agency === identity.org;
      case 'PLATFORM_OPERATOR':
      case 'PARTNER_SYSTEM':
        return project.host_platform_id === identity.platform;
      case 'SUPERVISOR': {
        if (project.department !== identity.department) return false;
        if (project.host_platform_id === identity.platform) return true;
        const [host] = await this.platforms.platformsByIds([project.host_platform_id]);
        return host?.parent_id === identity.platform;
      }
      case 'EXPERT':
        return false;
    }
  }

  /**
   * Moves a project to another state if the state machine allows it from its current state, appending the event and
   * writing the outbox rows in the same transaction. A refused transition is CONFLICT and changes nothing.
   */
  async transition(projectId: string, request: TransitionRequest): Promise<Project> {
    return this.db.transaction().execute((trx) => this.transitionIn(trx, projectId, request));
  }

  /** `locked`: the project's row as this transaction already locked it (lockIn), so it is not read again. */
  async transitionIn(
    trx: Transaction<ProjectsDatabase>,
    projectId: string,
    request: TransitionRequest,
    locked?: Project,
  ): Promise<Project> {
    const current = locked ?? (await this.lockIn(trx, projectId));
    const allowedFrom = request.from ?? statesLeadingTo(request.to);
    if (!allowedFrom.includes(current.status) || !canTransition(current.status, request.to)) {
      throw conflict(
        `project ${current.code} is ${current.status}; this step needs it to be ${allowedFrom.join(' or ')}`,
      );
    }
    const updated = await trx
      .updateTable('project')
      .set({ status: request.to, updated_at: this.clock.now(), ...(request.set ?? {}) })
      .where('id', '=', projectId)
      .returningAll()
      .executeTakeFirstOrThrow();
    noteChanged(touched('Project', projectId));
    await this.appendEventsIn(trx, projectId, [...(request.events ?? []), request], current);
    await writeOutbox<ProjectsDatabase, JobCatalogue>(trx, request.outbox ?? []);
    return updated;
  }

  /** Appends an event to a project's timeline and archive chain (a job's record of what it did, say). */
  async appendEvent(projectId: string, event: NewEvent): Promise<void> {
    await this.appendEvents(projectId, [event]);
  }

  /** Appends events in order under one lock of the project; those whose key is already recorded are left out. */
  async appendEvents(projectId: string, events: readonly NewEvent[]): Promise<void> {
    await this.db
      .transaction()
      .execute(async (trx) => this.appendEventsIn(trx, projectId, events, await this.lockIn(trx, projectId)));
  }

  /** Reads a project and locks its row (FOR UPDATE) until the transaction ends: state changes and appends take it first. */
  async lockIn(trx: Transaction<ProjectsDatabase>, projectId: string): Promise<Project> {
    const locked = await trx
      .selectFrom('project')
      .selectAll()
      .where('id', '=', projectId)
      .forUpdate()
      .executeTakeFirst();
    if (!locked) throw notFound('project', projectId);
    return locked;
  }

  /** Appends within a transaction that already holds the project's row lock (or has just inserted the project). */
  async appendEventsIn(
    trx: Transaction<ProjectsDatabase>,
    projectId: string,
    events: readonly NewEvent[],
    locked?: Project,
  ): Promise<void> {
    const keys = events.flatMap((event) => (event.key ? [event.key] : []));
    // The chain's head and the keys already recorded, in one statement.
    const head = await trx
      .selectNoFrom((eb) => {
        const last = eb.selectFrom('project_event').where('project_id', '=', projectId).orderBy('seq', 'desc').limit(1);
        const recorded =
          keys.length > 0
            ? sql<string[]>`array(${eb.selectFrom('project_event').select('event_key').where('event_key', 'in', keys)})`
            : sql<string[]>`'{}'::text[]`;
        return [last.select('seq').as('seq'), last.select('hash').as('hash'), recorded.as('recorded')];
      })
      .executeTakeFirstOrThrow();
    // A key recorded before, or earlier in this list, is recorded once.
    const taken = new Set(head.recorded);
    const fresh = events.filter((event) => {
      if (!event.key) return true;
      if (taken.has(event.key)) return false;
      taken.add(event.key);
      return true;
    });
    if (fresh.length === 0) return;
    if (locked?.status === 'ARCHIVED')
      throw conflict(`project ${locked.code} is archived; its archive takes no more events`);
    let seq = head.seq ?? 0;
    let prevHash = head.hash ?? GENESIS_HASH;
    const at = this.clock.now();
    const rows = fresh.map((event) => {
      seq += 1;
      const detail = event.detail ?? null;
      const data = event.data ?? {};
      const hash = eventHash(prevHash, {
        projectId,
        seq,
        at: at.toISOString(),
        kind: event.kind,
        actor: event.actor,
        detail,
        data,
      });
      const row = {
        project_id: projectId,
        seq,
        at,
        kind: event.kind,
        actor: event.actor,
        detail,
        data: JSON.stringify(data),
        prev_hash: prevHash,
        hash,
        event_key: event.key ?? null,
      };
      prevHash = hash;
      return row;
    });
    await trx.insertInto('project_event').values(rows).execute();
    // The timeline is the project's (and fields read from it).
    noteChanged(touched('Project', projectId));
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.db);
    return true;
  }
}
