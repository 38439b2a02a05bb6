// The reconciliation job: a client of the supergraph that reads the bookings, committee seats, projects and ledger of a
// range through the gateway (as a service identity, page by page) and records every disagreement it finds.
import type { Job } from 'bullmq';
import { issueToken } from '../gateway/tokens';
import { chinaMidnight, chinaMinute } from '../lib/china-time';
import { gatewayUrl, type HubConfig } from '../lib/config';
import type { Identity } from '../lib/identity';
import { RECONCILIATION_JOB, ReconciliationService, type FoundDiscrepancy } from '../subgraphs/projects/reconciliation';
import type { DiscrepancyKind } from '../subgraphs/projects/types';
import type { JobServices } from './handlers';
import type { JobHandler, JobSchedule } from './runtime';

export const SERVICE_IDENTITY: Identity = { role: 'PROVINCIAL_ADMIN', platform: '410000', sub: 'service:reconciliation' };
export const RECONCILE_UPCOMING = 'reconcile-upcoming';
export const RECONCILE_NIGHTLY = 'reconcile-nightly';
const UPCOMING_DAYS = 14;
const DAY_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;
const PROJECT_PAGE_SIZE = 100;
/** Day windows of the schedule fetched at once. */
const SCHEDULE_PARALLELISM = 4;

/** The two repeating reconciliations; a pattern of "off" leaves one out. */
export function reconciliationSchedules(config: HubConfig): JobSchedule[] {
  const schedules: JobSchedule[] = [];
  if (config.RECONCILE_UPCOMING_CRON !== 'off') schedules.push({ queue: 'reconciliation', id: RECONCILE_UPCOMING, pattern: config.RECONCILE_UPCOMING_CRON, tz: config.RECONCILE_TIMEZONE });
  if (config.RECONCILE_NIGHTLY_CRON !== 'off') schedules.push({ queue: 'reconciliation', id: RECONCILE_NIGHTLY, pattern: config.RECONCILE_NIGHTLY_CRON, tz: config.RECONCILE_TIMEZONE });
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

export function reconciliationHandlers(services: JobServices): Record<string, JobHandler> {
  const reports = new ReconciliationService(services.projects.db);
  const scheduled = (trigger: 'UPCOMING' | 'NIGHTLY', rangeOf: (now: Date) => { from: Date; to: Date }) => async (job: Job) => {
    // The report id is kept on the job, so a retried attempt resumes its own report rather than opening another.
    let reportId = (job.data as { reportId?: string }).reportId;
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
    [RECONCILIATION_JOB.name]: (job: Job) => runReport(services, reports, (job.data as { reportId: string }).reportId, job),
    [RECONCILE_UPCOMING]: scheduled('UPCOMING', upcomingRange),
    [RECONCILE_NIGHTLY]: scheduled('NIGHTLY', nightlyRange),
  };
}

async function runReport(services: JobServices, reports: ReconciliationService, reportId: string, job: Job): Promise<unknown> {
  const report = await reports.startReport(reportId);
  if (!report) return { skipped: reportId };
  try {
    const started = Date.now();
    const client = new SupergraphClient(gatewayUrl(services.config), await issueToken(services.config, SERVICE_IDENTITY, '10m'));
    const snapshot = await readRange(client, report.from_at, report.to_at);
    const found = findDiscrepancies(snapshot, new Date());
    await reports.completeReport(reportId, found);
    services.logger.info({ reportId, projects: snapshot.projects.size, bookings: snapshot.bookings.size, discrepancies: found.length, ms: Date.now() - started }, 'reconciliation done');
    return { reportId, discrepancies: found.length };
  } catch (error) {
    const attempts = job.opts.attempts ?? 1;
    if (job.attemptsMade + 1 >= attempts) await reports.failReport(reportId, error instanceof Error ? error.message : String(error));
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
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}`, 'cache-control': 'no-cache' },
      body: JSON.stringify({ query, variables }),
      signal: AbortSignal.timeout(60_000),
    });
    const body = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length || !body.data) throw new Error(`the gateway refused a reconciliation query: ${body.errors?.map((error) => error.message).join('; ') ?? `HTTP ${response.status}`}`);
    return body.data;
  }
}

// What the job reads, in the supergraph's own shapes.
interface ProjectView {
  id: string;
  code: string;
  status: string;
  agency: string;
  hostPlatform: { id: string };
  evaluationStartsAt: string;
  evaluationEndsAt: string;
  committeeSize: number;
  tendererRepresentatives: number;
}
interface BookingView {
  id: string;
  status: string;
  role: 'MAIN' | 'SECONDARY';
  startsAt: string;
  endsAt: string;
  holdExpiresAt: string | null;
  room: { id: string; name: string; venue: { platform: { id: string } } };
}
interface SeatView {
  id: string;
  status: string;
  booking: { id: string; status: string };
}
interface LedgerView {
  id: string;
  kind: 'FEE_ADVANCE' | 'PARTNER_PAYABLE' | 'REVERSAL';
  payer: string;
  payee: string;
  amount: string;
  reverses: string | null;
  settledAt: string | null;
}
interface ProjectInRange extends ProjectView {
  venueBookings: BookingView[];
  expertDraw: { id: string; seats: SeatView[] } | null;
  ledger: LedgerView[];
}

export interface RangeSnapshot {
  /** Every project seen; `inRange` ones (window overlapping the range) carry their seats and ledger. */
  projects: Map<string, ProjectView & Partial<ProjectInRange> & { inRange: boolean }>;
  bookings: Map<string, BookingView & { projectId: string }>;
  partnersOf: Map<string, Set<string>>;
}

const PROJECT_FIELDS = 'id code status agency hostPlatform { id } evaluationStartsAt evaluationEndsAt committeeSize tendererRepresentatives';
const BOOKING_FIELDS = 'id status role startsAt endsAt holdExpiresAt room { id name venue { platform { id } } }';
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
}`;

/**
 * Reads a range through the supergraph: the platforms' agreements, the projects evaluated in the range 100 at a time
 * (with their bookings, seats and ledger), then the schedule one day at a time (bookings in the range whatever their
 * project's window). No request returns more than a page or a day.
 */
export async function readRange(client: SupergraphClient, from: Date, to: Date): Promise<RangeSnapshot> {
  const snapshot: RangeSnapshot = { projects: new Map(), bookings: new Map(), partnersOf: new Map() };
  const { platforms } = await client.query<{ platforms: { id: string; partners: { partner: { id: string } }[] }[] }>(PLATFORMS_QUERY);
  for (const platform of platforms) snapshot.partnersOf.set(platform.id, new Set(platform.partners.map((agreement) => agreement.partner.id)));

  let after: string | null = null;
  do {
    type Page = { projectsEvaluatedBetween: { pageInfo: { hasNextPage: boolean; endCursor: string | null }; edges: { node: ProjectInRange }[] } };
    const page: Page = await client.query<Page>(PROJECTS_QUERY, { from: from.toISOString(), to: to.toISOString(), first: PROJECT_PAGE_SIZE, after });
    for (const { node } of page.projectsEvaluatedBetween.edges) {
      snapshot.projects.set(node.id, { ...node, inRange: true });
      for (const booking of node.venueBookings) snapshot.bookings.set(booking.id, { ...booking, projectId: node.id });
    }
    after = page.projectsEvaluatedBetween.pageInfo.hasNextPage ? page.projectsEvaluatedBetween.pageInfo.endCursor : null;
  } while (after);

  const days: { from: Date; to: Date }[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += DAY_MS) days.push({ from: new Date(start), to: new Date(Math.min(start + DAY_MS, to.getTime())) });
  for (let index = 0; index < days.length; index += SCHEDULE_PARALLELISM) {
    const results = await Promise.all(
      days.slice(index, index + SCHEDULE_PARALLELISM).map((day) =>
        client.query<{ schedule: (BookingView & { project: ProjectView })[] }>(SCHEDULE_QUERY, { from: day.from.toISOString(), to: day.to.toISOString() }),
      ),
    );
    for (const { schedule } of results) {
      for (const { project, ...booking } of schedule) {
        if (!snapshot.projects.has(project.id)) snapshot.projects.set(project.id, { ...project, inRange: false });
        snapshot.bookings.set(booking.id, { ...booking, projectId: project.id });
      }
    }
  }
  return snapshot;
}

const LIVE_BOOKING = new Set(['HELD', 'CONFIRMED']);
const LIVE_SEAT = new Set(['INVITED', 'ACCEPTED', 'CHECKED_IN']);
const SEATED = new Set(['ACCEPTED', 'CHECKED_IN']);
/** A project cancelled or refused filing holds nothing; an archived one keeps its bookings as history. */
const CLOSED_PROJECT = new Set(['CANCELLED', 'REJECTED']);
const KIND_ORDER: readonly DiscrepancyKind[] = ['WINDOW_MISMATCH', 'LIVE_BOOKING_OF_CLOSED_PROJECT', 'EXPIRED_HOLD', 'SEAT_WITHOUT_CONFIRMED_BOOKING', 'INCOMPLETE_COMMITTEE', 'LEDGER_MISMATCH'];

const cst = (iso: string) => chinaMinute(iso);
const span = (startsAt: string, endsAt: string) => `${cst(startsAt)}–${cst(endsAt)} (UTC+8)`;
const platformOfParty = (party: string) => (party.startsWith('platform:') ? party.slice('platform:'.length) : null);

/** Every disagreement of a snapshot, in a stable order (by kind, then project code, then ids). */
export function findDiscrepancies(snapshot: RangeSnapshot, now: Date): FoundDiscrepancy[] {
  const found: FoundDiscrepancy[] = [];
  const add = (item: Omit<FoundDiscrepancy, 'seatId' | 'ledgerEntryId' | 'bookingId'> & Partial<Pick<FoundDiscrepancy, 'seatId' | 'ledgerEntryId' | 'bookingId'>>) =>
    found.push({ bookingId: null, seatId: null, ledgerEntryId: null, ...item });

  for (const booking of snapshot.bookings.values()) {
    const project = snapshot.projects.get(booking.projectId);
    if (!project || !LIVE_BOOKING.has(booking.status)) continue;
    const where = `${booking.role === 'MAIN' ? 'main' : 'secondary'} booking ${booking.id} of room ${booking.room.name} (${booking.room.id}, platform ${booking.room.venue.platform.id})`;
    const roomPlatform = booking.room.venue.platform.id;
    const held = booking.status === 'HELD';
    if (CLOSED_PROJECT.has(project.status)) {
      add({
        kind: 'LIVE_BOOKING_OF_CLOSED_PROJECT',
        projectId: project.id,
        projectCode: project.code,
        bookingId: booking.id,
        platformId: held ? roomPlatform : project.hostPlatform.id,
        resolution: held ? 'rejectBooking' : 'cancelProject',
        detail: held
          ? `${where} is still HELD though project ${project.code} is ${project.status}; an operator of platform ${roomPlatform} should release the seats with rejectBooking.`
          : `${where} is still CONFIRMED though project ${project.code} is ${project.status}; the release that cancelProject starts did not happen: retry the project's failed project-cancelled job so it releases the booking.`,
      });
    } else if (new Date(booking.startsAt).getTime() !== new Date(project.evaluationStartsAt).getTime() || new Date(booking.endsAt).getTime() !== new Date(project.evaluationEndsAt).getTime()) {
      add({
        kind: 'WINDOW_MISMATCH',
        projectId: project.id,
        projectCode: project.code,
        bookingId: booking.id,
        platformId: held ? roomPlatform : project.hostPlatform.id,
        resolution: held ? 'rejectBooking' : 'cancelProject',
        detail: `${where} is ${booking.status} for ${span(booking.startsAt, booking.endsAt)} but project ${project.code} evaluates ${span(project.evaluationStartsAt, project.evaluationEndsAt)}; ${
          held
            ? `an operator of platform ${roomPlatform} should rejectBooking it so the host can arrangeVenues again for the project's window.`
            : `the host (platform ${project.hostPlatform.id}) should cancelProject and resubmit, or the room is held for the wrong hours.`
        }`,
      });
    }
    if (held && booking.holdExpiresAt && new Date(booking.holdExpiresAt).getTime() < now.getTime()) {
      add({
        kind: 'EXPIRED_HOLD',
        projectId: project.id,
        projectCode: project.code,
        bookingId: booking.id,
        platformId: roomPlatform,
        resolution: 'confirmBooking or rejectBooking',
        detail: `${where} of project ${project.code} is still HELD though its hold expired at ${cst(booking.holdExpiresAt)} (UTC+8) and the hold sweep did not settle it; an operator of platform ${roomPlatform} should confirmBooking or rejectBooking it.`,
      });
    }
  }

  for (const project of snapshot.projects.values()) {
    if (!project.inRange) continue;
    const seats = project.expertDraw?.seats ?? [];
    for (const seat of seats) {
      if (!LIVE_SEAT.has(seat.status) || seat.booking.status === 'CONFIRMED') continue;
      const booking = snapshot.bookings.get(seat.booking.id);
      const roomPlatform = booking?.room.venue.platform.id ?? null;
      add({
        kind: 'SEAT_WITHOUT_CONFIRMED_BOOKING',
        projectId: project.id,
        projectCode: project.code,
        bookingId: seat.booking.id,
        seatId: seat.id,
        platformId: seat.booking.status === 'HELD' ? roomPlatform : project.hostPlatform.id,
        resolution: seat.booking.status === 'HELD' ? 'confirmBooking' : 'replaceCommitteeMember',
        detail:
          seat.booking.status === 'HELD'
            ? `committee seat ${seat.id} of project ${project.code} is ${seat.status} at booking ${seat.booking.id}, which is only HELD; an operator of platform ${roomPlatform ?? '?'} should confirmBooking it (or the host cancelProject).`
            : `committee seat ${seat.id} of project ${project.code} is ${seat.status} at booking ${seat.booking.id}, which is ${seat.booking.status}; the expert has no room: the host should move the member with replaceCommitteeMember, or cancelProject.`,
      });
    }
    if (project.status === 'IN_EVALUATION') {
      const needed = project.committeeSize - project.tendererRepresentatives;
      const seated = seats.filter((seat) => SEATED.has(seat.status)).length;
      if (seated < needed) {
        add({
          kind: 'INCOMPLETE_COMMITTEE',
          projectId: project.id,
          projectCode: project.code,
          platformId: project.hostPlatform.id,
          resolution: 'replaceCommitteeMember',
          detail: `project ${project.code} is IN_EVALUATION with ${seated} of ${needed} drawn experts accepted or checked in; the host (platform ${project.hostPlatform.id}) should fill the ${needed - seated} missing seat(s) with replaceCommitteeMember.`,
        });
      }
    }
    findLedgerMismatches(snapshot, project as ProjectInRange, add);
  }

  const rank = (kind: DiscrepancyKind) => KIND_ORDER.indexOf(kind);
  return found.sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) ||
      (a.projectCode ?? '').localeCompare(b.projectCode ?? '') ||
      (a.bookingId ?? '').localeCompare(b.bookingId ?? '') ||
      (a.seatId ?? a.ledgerEntryId ?? '').localeCompare(b.seatId ?? b.ledgerEntryId ?? ''),
  );
}

/**
 * An open (unsettled, unreversed) ledger entry must rest on a booking: the advance on a confirmed booking of the
 * project, a partner payable on a confirmed booking in a room of that partner, which must be a partner of the host.
 */
function findLedgerMismatches(snapshot: RangeSnapshot, project: ProjectInRange, add: (item: Omit<FoundDiscrepancy, 'seatId' | 'bookingId'> & { ledgerEntryId: string }) => void): void {
  const ledger = project.ledger ?? [];
  const reversed = new Set(ledger.map((entry) => entry.reverses).filter((id): id is string => id !== null));
  const confirmed = (project.venueBookings ?? []).filter((booking) => booking.status === 'CONFIRMED');
  const host = project.hostPlatform.id;
  for (const entry of ledger) {
    if (entry.kind === 'REVERSAL' || entry.settledAt || reversed.has(entry.id)) continue;
    let problem: string | null = null;
    if (entry.kind === 'FEE_ADVANCE') {
      if (confirmed.length === 0) problem = `the fee advance ${entry.id} (${entry.amount} fen from ${entry.payer}) stands though project ${project.code} (${project.status}) has no confirmed booking`;
    } else {
      const partner = platformOfParty(entry.payee);
      if (!partner || entry.payer !== `platform:${host}`) {
        problem = `the partner payable ${entry.id} runs from ${entry.payer} to ${entry.payee}, not from the host platform ${host} to a partner platform`;
      } else if (!snapshot.partnersOf.get(host)?.has(partner)) {
        problem = `the partner payable ${entry.id} owes platform ${partner} ${entry.amount} fen but ${partner} has no cooperation agreement with host ${host}`;
      } else if (!confirmed.some((booking) => booking.role === 'SECONDARY' && booking.room.venue.platform.id === partner)) {
        problem = `the partner payable ${entry.id} owes platform ${partner} ${entry.amount} fen but project ${project.code} (${project.status}) has no confirmed secondary booking there`;
      }
    }
    if (problem) {
      add({
        kind: 'LEDGER_MISMATCH',
        projectId: project.id,
        projectCode: project.code,
        ledgerEntryId: entry.id,
        platformId: host,
        resolution: 'cancelProject',
        detail: `${problem}; if the project is over, the host (platform ${host}) should cancelProject, which writes the REVERSAL; otherwise the booking must be confirmed (confirmBooking) before the fee is settled.`,
      });
    }
  }
}
