// The reconciliation job: a client of the supergraph that reads the bookings, room blocks, committee seats, projects and
// ledger of a range through the gateway (as a service identity, page by page) and records every disagreement it finds.
import { chinaMidnight } from '../lib/china-time';
import type { Job } from 'bullmq';
import { gatewayUrl, type HubConfig } from '../lib/config';
import type { Identity } from '../lib/identity';
import { issueToken } from '../lib/token-issuer';
import {
  findDiscrepancies,
  type BlockView,
  type BookingView,
  type LiveStatuses,
  type ProjectInRange,
  type ProjectView,
  type RangeSnapshot,
  type ReconciliationService,
} from '../subgraphs/projects';
import { LIVE_BOOKING_STATUSES } from '../subgraphs/venues';
import { JOBS, type ScheduledRun } from './catalogue';
import type { JobSchedule, JobServices, QueueHandlers } from './contracts';

export const SERVICE_IDENTITY: Identity = {
  role: 'PROVINCIAL_ADMIN',
  platform: '410000',
  sub: 'service:reconciliation',
};
export const RECONCILE_UPCOMING = JOBS.reconcileUpcoming.name;
export const RECONCILE_NIGHTLY = JOBS.reconcileNightly.name;
/**
 * What holds a room or a seat, as the owning domains define it: the bookings' from venues; the seats' are the experts
 * domain's rule (the `live` column of committee_seat), written here until its door exports them.
 */
const LIVE: LiveStatuses = {
  booking: LIVE_BOOKING_STATUSES,
  seat: ['INVITED', 'ACCEPTED', 'CHECKED_IN'],
  seated: ['ACCEPTED', 'CHECKED_IN'],
};
const UPCOMING_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
const PROJECT_PAGE_SIZE = 100;
/** Day windows of the schedule fetched at once. */
const SCHEDULE_PARALLELISM = 4;

/** The two repeating reconciliations; a pattern of "off" leaves one out. */
export function reconciliationSchedules(config: HubConfig): JobSchedule[] {
  const schedules: JobSchedule[] = [];
  if (config.RECONCILE_UPCOMING_CRON !== 'off')
    schedules.push({
      queue: 'reconciliation',
      id: RECONCILE_UPCOMING,
      pattern: config.RECONCILE_UPCOMING_CRON,
      tz: config.RECONCILE_TIMEZONE,
    });
  if (config.RECONCILE_NIGHTLY_CRON !== 'off')
    schedules.push({
      queue: 'reconciliation',
      id: RECONCILE_NIGHTLY,
      pattern: config.RECONCILE_NIGHTLY_CRON,
      tz: config.RECONCILE_TIMEZONE,
    });
  return schedules;
}

/** From the start of the current hour over the next 14 days. */
export function upcomingRange(now: Date): { from: Date; to: Date } {
  const from = new Date(Math.floor(now.getTime() / HOUR_MS) * HOUR_MS);
  return { from, to: new Date(from.getTime() + UPCOMING_DAYS * DAY_MS) };
}

/** Yesterday, midnight to midnight in China Standard Time. */
export function nightlyRange(now: Date): { from: Date; to: Date } {
  const to = chinaMidnight(now);
  return { from: new Date(to.getTime() - DAY_MS), to };
}

export function reconciliationHandlers(services: JobServices): QueueHandlers<'reconciliation'> {
  const reports = services.projects.reconciliation;
  const scheduled =
    (trigger: 'UPCOMING' | 'NIGHTLY', rangeOf: (now: Date) => { from: Date; to: Date }) =>
    async (job: Job<ScheduledRun>) => {
      // The report id is kept on the job, so a retried attempt resumes its own report rather than opening another.
      let reportId = job.data.reportId;
      if (!reportId) {
        const { from, to } = rangeOf(new Date(job.timestamp));
        const { report, created } = await reports.openReport(from, to, trigger, SERVICE_IDENTITY.sub, false);
        // A report of the same range is already waiting or running: it will do, and two never run at once.
        if (!created) return { joined: report.id };
        reportId = report.id;
        await job.updateData({ ...job.data, reportId });
      }
      return runReport(services, reports, reportId, job);
    };
  return {
    [JOBS.reconcile.name]: (job) => runReport(services, reports, job.data.reportId, job),
    [RECONCILE_UPCOMING]: scheduled('UPCOMING', upcomingRange),
    [RECONCILE_NIGHTLY]: scheduled('NIGHTLY', nightlyRange),
  };
}

async function runReport(
  services: JobServices,
  reports: ReconciliationService,
  reportId: string,
  job: Job<object>,
): Promise<unknown> {
  const report = await reports.startReport(reportId);
  if (!report) return { skipped: reportId };
  try {
    const started = Date.now();
    const client = new SupergraphClient(
      gatewayUrl(services.config),
      await issueToken(services.config, SERVICE_IDENTITY, '10m'),
    );
    const snapshot = await readRange(client, report.from_at, report.to_at);
    const found = findDiscrepancies({ snapshot, now: new Date(), live: LIVE });
    await reports.completeReport(reportId, found);
    services.logger.info(
      {
        reportId,
        projects: snapshot.projects.size,
        bookings: snapshot.bookings.size,
        blocks: snapshot.blocks.size,
        discrepancies: found.length,
        ms: Date.now() - started,
      },
      'reconciliation done',
    );
    return { reportId, discrepancies: found.length };
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 >= attempts)
      await reports.failReport(reportId, error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** POSTs queries to the gateway with a bearer token, like any other client; always for fresh answers, never cached ones. */
export class SupergraphClient {
  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  async query<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const response = await fetch(this.url, {
      method: 'POST',
      // A reconciliation compares the schedules as they are: an answer the gateway cached seconds ago would not do.
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${this.token}`,
        'cache-control': 'no-cache',
      },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data)
      throw new Error(
        `the gateway refused a reconciliation query: ${body.errors?.map((error) => error.message).join('; ') ?? `HTTP ${response.status}`}`,
      );
    return body.data;
  }
}

const PROJECT_FIELDS =
  'id code status agency hostPlatform { id } evaluationStartsAt evaluationEndsAt committeeSize tendererRepresentatives';
const ROOM_FIELDS = 'id name seats venue { platform { id } }';
const BOOKING_FIELDS = `id status role seats startsAt endsAt holdExpiresAt room { ${ROOM_FIELDS} }`;
const BLOCK_FIELDS = `id seats startsAt endsAt reason externalRef room { ${ROOM_FIELDS} }`;
const PLATFORMS_QUERY = '{ platforms { id partners { partner { id } } } }';
const PROJECTS_QUERY = `query ProjectsOfRange($from: DateTime!, $to: DateTime!, $first: Int!, $after: String) {
  projectsEvaluatedBetween(from: $from, to: $to, first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { ${PROJECT_FIELDS}
      venueBookings { ${BOOKING_FIELDS} }
      expertDraw { id seats { id status booking { id status } } }
      ledger { id kind payer payee amount reverses settledAt } } }
  }
}`;
const SCHEDULE_QUERY = `query ScheduleOfDay($from: DateTime!, $to: DateTime!) {
  schedule(from: $from, to: $to) { ${BOOKING_FIELDS} project { ${PROJECT_FIELDS} } }
  scheduleBlocks(from: $from, to: $to) { ${BLOCK_FIELDS} }
}`;

/**
 * Reads a range through the supergraph: the platforms' agreements, the projects evaluated in the range 100 at a time
 * (with their bookings, seats and ledger), then the schedule one day at a time (bookings in the range whatever their
 * project's window, and the live room blocks). No request returns more than a page or a day.
 */
export async function readRange(client: SupergraphClient, from: Date, to: Date): Promise<RangeSnapshot> {
  const snapshot: RangeSnapshot = {
    projects: new Map(),
    bookings: new Map(),
    blocks: new Map(),
    partnersOf: new Map(),
  };
  const { platforms } = await client.query<{ platforms: { id: string; partners: { partner: { id: string } }[] }[] }>(
    PLATFORMS_QUERY,
  );
  for (const platform of platforms)
    snapshot.partnersOf.set(platform.id, new Set(platform.partners.map((agreement) => agreement.partner.id)));

  let after: string | null = null;
  do {
    type Page = {
      projectsEvaluatedBetween: {
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
        edges: { node: ProjectInRange }[];
      };
    };
    const page: Page = await client.query<Page>(PROJECTS_QUERY, {
      from: from.toISOString(),
      to: to.toISOString(),
      first: PROJECT_PAGE_SIZE,
      after,
    });
    for (const { node } of page.projectsEvaluatedBetween.edges) {
      snapshot.projects.set(node.id, { ...node, inRange: true });
      for (const booking of node.venueBookings) snapshot.bookings.set(booking.id, { ...booking, projectId: node.id });
    }
    after = page.projectsEvaluatedBetween.pageInfo.hasNextPage
      ? page.projectsEvaluatedBetween.pageInfo.endCursor
      : null;
  } while (after);

  const days: { from: Date; to: Date }[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += DAY_MS)
    days.push({ from: new Date(start), to: new Date(Math.min(start + DAY_MS, to.getTime())) });
  for (let index = 0; index < days.length; index += SCHEDULE_PARALLELISM) {
    const results = await Promise.all(
      days.slice(index, index + SCHEDULE_PARALLELISM).map((day) =>
        client.query<{ schedule: (BookingView & { project: ProjectView })[]; scheduleBlocks: BlockView[] }>(
          SCHEDULE_QUERY,
          {
            from: day.from.toISOString(),
            to: day.to.toISOString(),
          },
        ),
      ),
    );
    for (const { schedule, scheduleBlocks } of results) {
      for (const { project, ...booking } of schedule) {
        if (!snapshot.projects.has(project.id)) snapshot.projects.set(project.id, { ...project, inRange: false });
        snapshot.bookings.set(booking.id, { ...booking, projectId: project.id });
      }
      for (const block of scheduleBlocks) snapshot.blocks.set(block.id, block);
    }
  }
  return snapshot;
}
