// The reconciliation's rules, the projects domain's: a table of named checks, each finding one kind of disagreement
// in the facts of a range (what the supergraph says of its projects, bookings, room blocks, seats and ledger). The job
// (jobs/reconciliation.ts) only gathers the facts and runs the table. The live statuses come from the domains that own
// them (venues' bookings, experts' seats), never written here.
import { chinaMinute } from '../../lib/china-time';
import type { FoundDiscrepancy } from './reconciliation';
import type { DiscrepancyKind } from './types';

// The facts, in the supergraph's own shapes.
export interface ProjectView {
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
export interface RoomView {
  id: string;
  name: string;
  seats: number;
  venue: { platform: { id: string } };
}
export interface BookingView {
  id: string;
  status: string;
  role: 'MAIN' | 'SECONDARY';
  seats: number;
  startsAt: string;
  endsAt: string;
  holdExpiresAt: string | null;
  room: RoomView;
}
/** A live room block: seats a platform took for its own use, held like a booking's. */
export interface BlockView {
  id: string;
  seats: number;
  startsAt: string;
  endsAt: string;
  reason: string;
  externalRef: string | null;
  room: RoomView;
}
export interface SeatView {
  id: string;
  status: string;
  booking: { id: string; status: string };
}
export interface LedgerView {
  id: string;
  kind: 'FEE_ADVANCE' | 'PARTNER_PAYABLE' | 'REVERSAL';
  payer: string;
  payee: string;
  amount: string;
  reverses: string | null;
  settledAt: string | null;
}
export interface ProjectInRange extends ProjectView {
  venueBookings: BookingView[];
  expertDraw: { id: string; seats: SeatView[] } | null;
  ledger: LedgerView[];
}

export interface RangeSnapshot {
  /** Every project seen; `inRange` ones (window overlapping the range) carry their seats and ledger. */
  projects: Map<string, ProjectView & Partial<ProjectInRange> & { inRange: boolean }>;
  bookings: Map<string, BookingView & { projectId: string }>;
  /** The live room blocks overlapping the range. */
  blocks: Map<string, BlockView>;
  partnersOf: Map<string, Set<string>>;
}

/** Which statuses hold something: the venues domain's live bookings, the experts domain's live and seated seats. */
export interface LiveStatuses {
  booking: readonly string[];
  seat: readonly string[];
  /** Seats whose expert has accepted (or checked in). */
  seated: readonly string[];
}

/** What a check reads: the snapshot, the time of the run, and the owners' live statuses. */
export interface DiscrepancyFacts {
  snapshot: RangeSnapshot;
  now: Date;
  live: LiveStatuses;
}

type Found = Omit<FoundDiscrepancy, 'seatId' | 'ledgerEntryId' | 'bookingId'> &
  Partial<Pick<FoundDiscrepancy, 'seatId' | 'ledgerEntryId' | 'bookingId'>>;

export interface DiscrepancyCheck {
  name: DiscrepancyKind;
  /** What the check finds, in a sentence. */
  describe: string;
  find(facts: DiscrepancyFacts): Found[];
}

/** A project cancelled or refused filing holds nothing; an archived one keeps its bookings as history. */
const CLOSED_PROJECT = new Set(['CANCELLED', 'REJECTED']);

const cst = (iso: string) => chinaMinute(iso);
const seatCount = (seats: number) => `${seats} seat${seats === 1 ? '' : 's'}`;
const span = (startsAt: string, endsAt: string) => `${cst(startsAt)}–${cst(endsAt)} (UTC+8)`;
const platformOfParty = (party: string) => (party.startsWith('platform:') ? party.slice('platform:'.length) : null);
const describeBooking = (booking: BookingView) =>
  `${booking.role === 'MAIN' ? 'main' : 'secondary'} booking ${booking.id} of room ${booking.room.name} (${booking.room.id}, platform ${booking.room.venue.platform.id})`;

/** Each live booking with its project, in the snapshot's order. */
function liveBookings({ snapshot, live }: DiscrepancyFacts) {
  return [...snapshot.bookings.values()].flatMap((booking) => {
    const project = snapshot.projects.get(booking.projectId);
    return project && live.booking.includes(booking.status)
      ? [{ booking, project, held: booking.status === 'HELD', roomPlatform: booking.room.venue.platform.id }]
      : [];
  });
}

const projectsInRange = ({ snapshot }: DiscrepancyFacts) =>
  [...snapshot.projects.values()].filter((project) => project.inRange) as (ProjectInRange & { inRange: true })[];

/** In the order reports list them. */
export const DISCREPANCY_CHECKS: readonly DiscrepancyCheck[] = [
  {
    name: 'WINDOW_MISMATCH',
    describe: "a live booking of an open project whose hours are not the project's evaluation window",
    find: (facts) =>
      liveBookings(facts)
        .filter(({ project }) => !CLOSED_PROJECT.has(project.status))
        .filter(
          ({ booking, project }) =>
            new Date(booking.startsAt).getTime() !== new Date(project.evaluationStartsAt).getTime() ||
            new Date(booking.endsAt).getTime() !== new Date(project.evaluationEndsAt).getTime(),
        )
        .map(({ booking, project, held, roomPlatform }) => ({
          kind: 'WINDOW_MISMATCH',
          projectId: project.id,
          projectCode: project.code,
          bookingId: booking.id,
          platformId: held ? roomPlatform : project.hostPlatform.id,
          resolution: held ? 'rejectBooking' : 'cancelProject',
          detail: `${describeBooking(booking)} is ${booking.status} for ${span(booking.startsAt, booking.endsAt)} but project ${project.code} evaluates ${span(project.evaluationStartsAt, project.evaluationEndsAt)}; ${
            held
              ? `an operator of platform ${roomPlatform} should rejectBooking it so the host can arrangeVenues again for the project's window.`
              : `the host (platform ${project.hostPlatform.id}) should cancelProject and resubmit, or the room is held for the wrong hours.`
          }`,
        })),
  },
  {
    name: 'LIVE_BOOKING_OF_CLOSED_PROJECT',
    describe: 'a booking still held or confirmed for a project cancelled or refused filing',
    find: (facts) =>
      liveBookings(facts)
        .filter(({ project }) => CLOSED_PROJECT.has(project.status))
        .map(({ booking, project, held, roomPlatform }) => ({
          kind: 'LIVE_BOOKING_OF_CLOSED_PROJECT',
          projectId: project.id,
          projectCode: project.code,
          bookingId: booking.id,
          platformId: held ? roomPlatform : project.hostPlatform.id,
          resolution: held ? 'rejectBooking' : 'cancelProject',
          detail: held
            ? `${describeBooking(booking)} is still HELD though project ${project.code} is ${project.status}; an operator of platform ${roomPlatform} should release the seats with rejectBooking.`
            : `${describeBooking(booking)} is still CONFIRMED though project ${project.code} is ${project.status}; the release that cancelProject starts did not happen: retry the project's failed project-cancelled job so it releases the booking.`,
        })),
  },
  {
    name: 'EXPIRED_HOLD',
    describe: 'a hold past its expiry that the hold sweep did not settle',
    find: (facts) =>
      liveBookings(facts)
        .filter(
          ({ booking, held }) =>
            held && booking.holdExpiresAt !== null && new Date(booking.holdExpiresAt).getTime() < facts.now.getTime(),
        )
        .map(({ booking, project, roomPlatform }) => ({
          kind: 'EXPIRED_HOLD',
          projectId: project.id,
          projectCode: project.code,
          bookingId: booking.id,
          platformId: roomPlatform,
          resolution: 'confirmBooking or rejectBooking',
          detail: `${describeBooking(booking)} of project ${project.code} is still HELD though its hold expired at ${cst(booking.holdExpiresAt!)} (UTC+8) and the hold sweep did not settle it; an operator of platform ${roomPlatform} should confirmBooking or rejectBooking it.`,
        })),
  },
  {
    name: 'SEAT_WITHOUT_CONFIRMED_BOOKING',
    describe: 'a live committee seat whose booking is not confirmed',
    find: (facts) =>
      projectsInRange(facts).flatMap((project) =>
        (project.expertDraw?.seats ?? [])
          .filter((seat) => facts.live.seat.includes(seat.status) && seat.booking.status !== 'CONFIRMED')
          .map((seat): Found => {
            const roomPlatform = facts.snapshot.bookings.get(seat.booking.id)?.room.venue.platform.id ?? null;
            const held = seat.booking.status === 'HELD';
            return {
              kind: 'SEAT_WITHOUT_CONFIRMED_BOOKING',
              projectId: project.id,
              projectCode: project.code,
              bookingId: seat.booking.id,
              seatId: seat.id,
              platformId: held ? roomPlatform : project.hostPlatform.id,
              resolution: held ? 'confirmBooking' : 'replaceCommitteeMember',
              detail: held
                ? `committee seat ${seat.id} of project ${project.code} is ${seat.status} at booking ${seat.booking.id}, which is only HELD; an operator of platform ${roomPlatform ?? '?'} should confirmBooking it (or the host cancelProject).`
                : `committee seat ${seat.id} of project ${project.code} is ${seat.status} at booking ${seat.booking.id}, which is ${seat.booking.status}; the expert has no room: the host should move the member with replaceCommitteeMember, or cancelProject.`,
            };
          }),
      ),
  },
  {
    name: 'INCOMPLETE_COMMITTEE',
    describe: 'a project in evaluation with fewer seated experts than its committee needs',
    find: (facts) =>
      projectsInRange(facts).flatMap((project): Found[] => {
        if (project.status !== 'IN_EVALUATION') return [];
        const needed = project.committeeSize - project.tendererRepresentatives;
        const seated = (project.expertDraw?.seats ?? []).filter((seat) =>
          facts.live.seated.includes(seat.status),
        ).length;
        if (seated >= needed) return [];
        return [
          {
            kind: 'INCOMPLETE_COMMITTEE',
            projectId: project.id,
            projectCode: project.code,
            platformId: project.hostPlatform.id,
            resolution: 'replaceCommitteeMember',
            detail: `project ${project.code} is IN_EVALUATION with ${seated} of ${needed} drawn experts accepted or checked in; the host (platform ${project.hostPlatform.id}) should fill the ${needed - seated} missing seat(s) with replaceCommitteeMember.`,
          },
        ];
      }),
  },
  {
    name: 'ROOM_OVERBOOKED',
    describe: 'a room whose live bookings and blocks together hold more than its seats at some moment',
    find: (facts) => overbookedRooms(facts),
  },
  {
    name: 'LEDGER_MISMATCH',
    describe:
      'an open ledger entry that rests on no confirmed booking (or a payable to a platform that is not a partner)',
    find: (facts) => projectsInRange(facts).flatMap((project) => ledgerMismatches(facts.snapshot, project)),
  },
];

interface SeatHolding {
  label: string;
  seats: number;
  from: number;
  to: number;
  booking?: { id: string; projectId: string; projectCode: string };
}

/**
 * Seats held in each room by its live bookings and blocks, swept over every moment where a holding starts or ends:
 * each stretch where they hold more than the room's seats is one finding. The seat-row exclusion constraint makes this
 * impossible, so a finding means seats were written around it (by hand, or by a migration).
 */
function overbookedRooms(facts: DiscrepancyFacts): Found[] {
  const rooms = new Map<string, { room: RoomView; holdings: SeatHolding[] }>();
  const hold = (room: RoomView, holding: SeatHolding) => {
    if (!rooms.has(room.id)) rooms.set(room.id, { room, holdings: [] });
    rooms.get(room.id)!.holdings.push(holding);
  };
  for (const { booking, project } of liveBookings(facts))
    hold(booking.room, {
      label: `booking ${booking.id} (project ${project.code}, ${booking.status}, ${seatCount(booking.seats)})`,
      seats: booking.seats,
      from: new Date(booking.startsAt).getTime(),
      to: new Date(booking.endsAt).getTime(),
      booking: { id: booking.id, projectId: project.id, projectCode: project.code },
    });
  for (const block of facts.snapshot.blocks.values())
    hold(block.room, {
      label: `block ${block.id} (externalRef ${block.externalRef ?? '-'}, ${seatCount(block.seats)}: ${block.reason})`,
      seats: block.seats,
      from: new Date(block.startsAt).getTime(),
      to: new Date(block.endsAt).getTime(),
    });

  const found: Found[] = [];
  for (const { room, holdings } of rooms.values()) {
    const moments = [...new Set(holdings.flatMap((holding) => [holding.from, holding.to]))].sort((a, b) => a - b);
    let run: { from: number; to: number; most: number; holders: Set<SeatHolding> } | null = null;
    const close = () => {
      if (run) found.push(overbooking(room, run.from, run.to, run.most, [...run.holders]));
      run = null;
    };
    for (let index = 0; index + 1 < moments.length; index++) {
      const [from, to] = [moments[index], moments[index + 1]];
      const holders = holdings.filter((holding) => holding.from <= from && holding.to > from);
      const held = holders.reduce((sum, holding) => sum + holding.seats, 0);
      if (held <= room.seats) {
        close();
        continue;
      }
      if (!run) run = { from, to, most: held, holders: new Set() };
      run.to = to;
      run.most = Math.max(run.most, held);
      for (const holder of holders) run.holders.add(holder);
    }
    close();
  }
  return found;
}

function overbooking(room: RoomView, from: number, to: number, most: number, holders: SeatHolding[]): Found {
  const platform = room.venue.platform.id;
  const first = holders.find((holding) => holding.booking)?.booking;
  return {
    kind: 'ROOM_OVERBOOKED',
    projectId: first?.projectId ?? null,
    projectCode: first?.projectCode ?? null,
    bookingId: first?.id ?? null,
    platformId: platform,
    resolution: 'removeRoomBlock or rejectBooking',
    detail: `room ${room.name} (${room.id}, platform ${platform}) has ${seatCount(room.seats)} but up to ${most} are held ${span(new Date(from).toISOString(), new Date(to).toISOString())} by ${holders.map((holding) => holding.label).join(', ')}; the seat constraint should have refused this, so seats were written around it: an operator of platform ${platform} should removeRoomBlock or rejectBooking until the room fits.`,
  };
}

/**
 * An open (unsettled, unreversed) ledger entry must rest on a booking: the advance on a confirmed booking of the
 * project, a partner payable on a confirmed booking in a room of that partner, which must be a partner of the host.
 */
function ledgerMismatches(snapshot: RangeSnapshot, project: ProjectInRange): Found[] {
  const ledger = project.ledger ?? [];
  const reversed = new Set(ledger.map((entry) => entry.reverses).filter((id): id is string => id !== null));
  const confirmed = (project.venueBookings ?? []).filter((booking) => booking.status === 'CONFIRMED');
  const host = project.hostPlatform.id;
  const found: Found[] = [];
  for (const entry of ledger) {
    if (entry.kind === 'REVERSAL' || entry.settledAt || reversed.has(entry.id)) continue;
    let problem: string | null = null;
    if (entry.kind === 'FEE_ADVANCE') {
      if (confirmed.length === 0)
        problem = `the fee advance ${entry.id} (${entry.amount} fen from ${entry.payer}) stands though project ${project.code} (${project.status}) has no confirmed booking`;
    } else {
      const partner = platformOfParty(entry.payee);
      if (!partner || entry.payer !== `platform:${host}`) {
        problem = `the partner payable ${entry.id} runs from ${entry.payer} to ${entry.payee}, not from the host platform ${host} to a partner platform`;
      } else if (!snapshot.partnersOf.get(host)?.has(partner)) {
        problem = `the partner payable ${entry.id} owes platform ${partner} ${entry.amount} fen but ${partner} has no cooperation agreement with host ${host}`;
      } else if (
        !confirmed.some((booking) => booking.role === 'SECONDARY' && booking.room.venue.platform.id === partner)
      ) {
        problem = `the partner payable ${entry.id} owes platform ${partner} ${entry.amount} fen but project ${project.code} (${project.status}) has no confirmed secondary booking there`;
      }
    }
    if (problem) {
      found.push({
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
  return found;
}

/** Runs every check; the findings in a stable order (by the table's order of kinds, then project code, then ids). */
export function findDiscrepancies(
  facts: DiscrepancyFacts,
  checks: readonly DiscrepancyCheck[] = DISCREPANCY_CHECKS,
): FoundDiscrepancy[] {
  const found = checks.flatMap((check) =>
    check.find(facts).map((item) => ({ bookingId: null, seatId: null, ledgerEntryId: null, ...item })),
  );
  const rank = (kind: DiscrepancyKind) => checks.findIndex((check) => check.name === kind);
  return found.sort(
    (a, b) =>
      rank(a.kind) - rank(b.kind) ||
      (a.projectCode ?? '').localeCompare(b.projectCode ?? '') ||
      (a.bookingId ?? '').localeCompare(b.bookingId ?? '') ||
      (a.seatId ?? a.ledgerEntryId ?? '').localeCompare(b.seatId ?? b.ledgerEntryId ?? ''),
  );
}
