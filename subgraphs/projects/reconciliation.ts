// Provincial reconciliation, the projects domain's side: reports of a date range and what they found. The finding itself
// is done by a job that reads the supergraph (jobs/reconciliation.ts) and runs this domain's checks
// (discrepancy-checks.ts); this module stores, queues and serves its reports.
import { sql, type Kysely, type Selectable } from 'kysely';
import { actorOf } from '../../lib/authz';
import { randomIds, systemClock, type Clock, type IdGenerator } from '../../lib/clock';
import { DB_ERRORS, sqlState } from '../../lib/db';
import { badInput, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { writeOutbox } from '../../lib/outbox';
import { JOBS, jobMessage, type JobCatalogue } from '../../jobs/catalogue';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import type {
  DiscrepancyKind,
  ProjectTable,
  ProjectsDatabase,
  ReconciliationDiscrepancyTable,
  ReconciliationReportTable,
  ReconciliationTrigger,
} from './types';

export type ReconciliationReportRow = Selectable<ReconciliationReportTable>;
export type DiscrepancyRow = Selectable<ReconciliationDiscrepancyTable>;
type Project = Selectable<ProjectTable>;
export interface ReconciliationReport extends ReconciliationReportRow {
  discrepancies: DiscrepancyRow[];
}

/** What the job found: one disagreement, the ids involved and what would resolve it. */
export interface FoundDiscrepancy {
  kind: DiscrepancyKind;
  projectId: string | null;
  projectCode: string | null;
  bookingId: string | null;
  seatId: string | null;
  ledgerEntryId: string | null;
  platformId: string | null;
  /** The mutation that would resolve it, e.g. "cancelProject". */
  resolution: string;
  detail: string;
}

export const RECONCILIATION_JOB = JOBS.reconcile;
/** A range longer than this is refused: reconcile a quarter at most in one report. */
export const MAX_RECONCILIATION_DAYS = 92;
const DAY_MS = 24 * 3600 * 1000;

export class ReconciliationService {
  constructor(
    private readonly db: Kysely<ProjectsDatabase>,
    private readonly clock: Clock = systemClock,
    private readonly ids: IdGenerator = randomIds,
  ) {}

  /**
   * runReconciliation: a PROVINCIAL_ADMIN asks for a report of [from, to). The report and its job are written in one
   * transaction; while a report of the same range is still waiting or running, that report is returned instead.
   *
   * ```ts
   * const report = await reconciliation.requestReconciliation(identity, new Date('2027-03-01'), new Date('2027-03-15'));
   * ```
   */
  async requestReconciliation(identity: Identity, from: Date, to: Date): Promise<ReconciliationReport> {
    checkRange(from, to);
    const { report } = await this.openReport(from, to, 'ON_DEMAND', actorOf(identity), true);
    return { ...report, discrepancies: [] };
  }

  /**
   * Opens a report of a range (PENDING), queuing its job when `enqueue`; when one of the same range is waiting or
   * running, returns that one (the unique index settles two requests racing each other).
   */
  async openReport(
    from: Date,
    to: Date,
    trigger: ReconciliationTrigger,
    requestedBy: string,
    enqueue: boolean,
  ): Promise<{ report: ReconciliationReportRow; created: boolean }> {
    const live = await this.liveReportOfRange(from, to);
    if (live) return { report: live, created: false };
    try {
      const report = await this.db.transaction().execute(async (trx) => {
        const report = await trx
          .insertInto('reconciliation_report')
          .values({
            id: this.ids.next('rec'),
            from_at: from,
            to_at: to,
            status: 'PENDING',
            trigger,
            requested_by: requestedBy,
            failure_reason: null,
            started_at: null,
            generated_at: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (enqueue)
          await writeOutbox<ProjectsDatabase, JobCatalogue>(
            trx,
            jobMessage(RECONCILIATION_JOB, { reportId: report.id }),
          );
        return report;
      });
      return { report, created: true };
    } catch (error) {
      if (sqlState(error) !== DB_ERRORS.uniqueViolation) throw error;
      const racing = await this.liveReportOfRange(from, to);
      if (!racing) throw error;
      return { report: racing, created: false };
    }
  }

  private liveReportOfRange(from: Date, to: Date): Promise<ReconciliationReportRow | undefined> {
    return this.db
      .selectFrom('reconciliation_report')
      .selectAll()
      .where('from_at', '=', from)
      .where('to_at', '=', to)
      .where('status', 'in', ['PENDING', 'RUNNING'])
      .executeTakeFirst();
  }

  /** reconciliationReport (PROVINCIAL_ADMIN only: lib/authorization.ts). */
  async readReport(id: string): Promise<ReconciliationReport | null> {
    const report = await this.db
      .selectFrom('reconciliation_report')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return report ? this.withDiscrepancies(report) : null;
  }

  /** latestReconciliationReport: the most recently generated DONE report (PROVINCIAL_ADMIN only: lib/authorization.ts). */
  async latestReport(): Promise<ReconciliationReport | null> {
    const report = await this.db
      .selectFrom('reconciliation_report')
      .selectAll()
      .where('status', '=', 'DONE')
      .orderBy('generated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return report ? this.withDiscrepancies(report) : null;
  }

  private async withDiscrepancies(report: ReconciliationReportRow): Promise<ReconciliationReport> {
    const discrepancies = await this.db
      .selectFrom('reconciliation_discrepancy')
      .selectAll()
      .where('report_id', '=', report.id)
      .orderBy('seq')
      .execute();
    return { ...report, discrepancies };
  }

  /**
   * projectsEvaluatedBetween: the projects whose evaluation window overlaps [from, to), every platform, by window start.
   * PROVINCIAL_ADMIN only (lib/authorization.ts); the reconciliation pages through it.
   */
  async projectsEvaluatedBetween(args: {
    from: Date;
    to: Date;
    first?: number | null;
    after?: string | null;
  }): Promise<Connection<Project>> {
    checkRange(args.from, args.to);
    const limit = pageSize(args.first);
    const cursor = decodeCursor(args.after, 2);
    const overlapping = this.db
      .selectFrom('project')
      .where(sql<boolean>`tstzrange(evaluation_starts_at, evaluation_ends_at) && tstzrange(${args.from}, ${args.to})`);
    const total = await overlapping.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    let page = overlapping.selectAll();
    if (cursor) {
      const [startsAt, id] = cursor as [string, string];
      page = page.where(sql<boolean>`(evaluation_starts_at, id) > (${new Date(startsAt)}, ${id})`);
    }
    const rows = await page
      .orderBy('evaluation_starts_at')
      .orderBy('id')
      .limit(limit + 1)
      .execute();
    return toConnection(rows, limit, Number(total.count), (row) => [row.evaluation_starts_at.toISOString(), row.id]);
  }

  /**
   * The job takes its report: PENDING (or RUNNING, when a crashed attempt is retried) becomes RUNNING. Returns null when
   * the report is already DONE or FAILED, so a job delivered twice does nothing the second time.
   */
  async startReport(id: string): Promise<ReconciliationReportRow | null> {
    const report = await this.db
      .updateTable('reconciliation_report')
      .set({ status: 'RUNNING', started_at: this.clock.now() })
      .where('id', '=', id)
      .where('status', 'in', ['PENDING', 'RUNNING'])
      .returningAll()
      .executeTakeFirst();
    if (report) return report;
    const exists = await this.db
      .selectFrom('reconciliation_report')
      .select('id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!exists) throw notFound('reconciliation report', id);
    return null;
  }

  /** Records what the job found and marks the report DONE, in one transaction (a retried job replaces its findings). */
  async completeReport(id: string, found: readonly FoundDiscrepancy[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const running = await trx
        .selectFrom('reconciliation_report')
        .select('id')
        .where('id', '=', id)
        .where('status', '=', 'RUNNING')
        .forUpdate()
        .executeTakeFirst();
      if (!running) return;
      await trx.deleteFrom('reconciliation_discrepancy').where('report_id', '=', id).execute();
      const rows = found.map((item, index) => ({
        report_id: id,
        seq: index + 1,
        kind: item.kind,
        project_id: item.projectId,
        project_code: item.projectCode,
        booking_id: item.bookingId,
        seat_id: item.seatId,
        ledger_entry_id: item.ledgerEntryId,
        platform_id: item.platformId,
        resolution: item.resolution,
        detail: item.detail,
      }));
      for (let offset = 0; offset < rows.length; offset += 1000)
        await trx
          .insertInto('reconciliation_discrepancy')
          .values(rows.slice(offset, offset + 1000))
          .execute();
      await trx
        .updateTable('reconciliation_report')
        .set({ status: 'DONE', generated_at: this.clock.now() })
        .where('id', '=', id)
        .execute();
    });
  }

  async failReport(id: string, reason: string): Promise<void> {
    await this.db
      .updateTable('reconciliation_report')
      .set({ status: 'FAILED', failure_reason: reason.slice(0, 2000) })
      .where('id', '=', id)
      .where('status', 'in', ['PENDING', 'RUNNING'])
      .execute();
  }
}

function checkRange(from: Date, to: Date): void {
  if (!(to.getTime() > from.getTime())) throw badInput('to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_RECONCILIATION_DAYS * DAY_MS) {
    throw badInput(
      'to',
      `a reconciliation covers at most ${MAX_RECONCILIATION_DAYS} days; split the range into several reports`,
    );
  }
}

/** Field resolvers of the reconciliation types (the root fields are in resolvers.ts). */
export const reconciliationTypeResolvers = {
  ReconciliationReport: {
    from: (report: ReconciliationReport) => report.from_at,
    to: (report: ReconciliationReport) => report.to_at,
    generatedAt: (report: ReconciliationReport) => report.generated_at,
    requestedBy: (report: ReconciliationReport) => report.requested_by,
    createdAt: (report: ReconciliationReport) => report.created_at,
    startedAt: (report: ReconciliationReport) => report.started_at,
    failureReason: (report: ReconciliationReport) => report.failure_reason,
  },
  Discrepancy: {
    projectId: (row: DiscrepancyRow) => row.project_id,
    projectCode: (row: DiscrepancyRow) => row.project_code,
    bookingId: (row: DiscrepancyRow) => row.booking_id,
    seatId: (row: DiscrepancyRow) => row.seat_id,
    ledgerEntryId: (row: DiscrepancyRow) => row.ledger_entry_id,
    platformId: (row: DiscrepancyRow) => row.platform_id,
  },
};
