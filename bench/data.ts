// The province-size data set of the benchmark: the demo platforms and rooms, a 30,000-expert pool, and a year of
// projects with consistent CONFIRMED bookings (seat rows that never overlap), draws and committee seats.
// Deterministic like the demo seed: the same scale gives the same rows.
import type { Insertable, Kysely } from 'kysely';
import { sql } from 'kysely';
import { CHINA_OFFSET_MS } from '../lib/china-time';
import { seedDemoData, type DomainDatabases } from '../app/seed';
import { generateDemoData, REFERENCE_DATE, SPECIALTIES } from '../app/seed/generate';
import { createRandom } from '../app/seed/random';
import { eventHash, GENESIS_HASH } from '../subgraphs/projects/service';
import type { ProjectEventTable, ProjectStatus, ProjectTable } from '../subgraphs/projects/types';
import type { BookingSeatTable, BookingTable } from '../subgraphs/venues';
import type { CommitteeSeatTable, DrawTable } from '../subgraphs/experts/types';

export interface BenchScale {
  experts: number;
  projects: number;
  /** Bookings wanted in total: one MAIN per project plus SECONDARY ones at partner rooms. */
  bookings: number;
}

/** SEED_SCALE=full (default) is the province; small is for trying the bench quickly. */
export function benchScale(name = process.env.SEED_SCALE ?? 'full'): BenchScale {
  if (name === 'full') return { experts: 30_000, projects: 10_000, bookings: 40_000 };
  if (name === 'small') return { experts: 3_000, projects: 1_000, bookings: 4_000 };
  throw new Error(`SEED_SCALE: use full or small, not ${name}`);
}

const DAY_MS = 86_400_000;
/** The year of evaluations: eleven months before the demo "now" and one after. */
export const YEAR_START = new Date(REFERENCE_DATE.getTime() - 335 * DAY_MS);
const YEAR_DAYS = 365;
// Morning, afternoon, whole day (UTC hours of 09:00-12:00, 14:00-17:00, 09:00-17:00 CST); slot bits 1, 2, 3.
const WINDOWS = [
  { start: 1, end: 4, slots: 1 },
  { start: 6, end: 9, slots: 2 },
  { start: 1, end: 9, slots: 3 },
] as const;

export interface LoadedData {
  counts: Record<string, number>;
  /** The weekday with the most bookings: the board query reads it. */
  busiestDay: { from: string; to: string; bookings: number };
  /** FILED projects with no bookings, hosted by Zhumadian, for the saga scenario (auto-confirm county rooms). */
  sagaProjects: string[];
  seconds: number;
}

async function insertChunks<DB, T extends keyof DB & string>(
  db: Kysely<DB>,
  table: T,
  rows: Insertable<DB[T]>[],
  chunk = 2000,
): Promise<void> {
  for (let start = 0; start < rows.length; start += chunk) {
    await db
      .insertInto(table)
      .values(rows.slice(start, start + chunk) as never)
      .execute();
  }
}

/** Generates and loads the province-size data set into freshly migrated, empty databases. */
export async function loadProvince(dbs: DomainDatabases, scale: BenchScale, sagaCount = 500): Promise<LoadedData> {
  const started = Date.now();
  // The demo seed's own path, the expert pool included: its CSV files through the bulk import (a temporary directory).
  const counts: Record<string, number> = { ...(await seedDemoData(dbs, { experts: scale.experts })) };
  const demo = generateDemoData({ experts: scale.experts });
  const rng = createRandom(7_000_007);

  // Rooms by platform, and whom each platform may book (itself plus its agreement partners).
  const venueOf = new Map(demo.venues.venue.map((venue) => [venue.id, venue.platform_id]));
  const rooms = demo.venues.room.map((room) => ({
    id: room.id,
    seats: room.seats,
    platform: venueOf.get(room.venue_id)!,
  }));
  const roomsOf = new Map<string, typeof rooms>();
  for (const room of rooms) roomsOf.set(room.platform, [...(roomsOf.get(room.platform) ?? []), room]);
  const partnersOf = new Map<string, string[]>();
  for (const agreement of demo.venues.cooperation_agreement) {
    partnersOf.set(agreement.platform_id, [...(partnersOf.get(agreement.platform_id) ?? []), agreement.partner_id]);
  }
  const platforms = demo.venues.platform.map((platform) => platform.id);
  const activeExperts = demo.experts.expert
    .filter((expert) => expert.status !== 'SUSPENDED')
    .map((expert) => expert.id);

  // Seat occupancy per room per day: for each seat, a bit per half day.
  const occupancy = new Map<string, Uint8Array>();
  const seatsTaken = (roomId: string, seats: number, day: number) => {
    const key = `${roomId}|${day}`;
    let value = occupancy.get(key);
    if (!value) occupancy.set(key, (value = new Uint8Array(seats)));
    return value;
  };
  const freeSeatNumbers = (
    room: (typeof rooms)[number],
    day: number,
    slots: number,
    wanted: number,
  ): number[] | null => {
    const taken = seatsTaken(room.id, room.seats, day);
    const free: number[] = [];
    for (let seat = 0; seat < room.seats && free.length < wanted; seat++)
      if ((taken[seat] & slots) === 0) free.push(seat);
    if (free.length < wanted) return null;
    for (const seat of free) taken[seat] |= slots;
    return free.map((seat) => seat + 1);
  };
  // Experts seated per day (avoidance ground 6 for the seeded history) and per-expert draw counts stay plausible.
  const seatedOn = new Map<number, Set<string>>();

  const projects: Insertable<ProjectTable>[] = [];
  const events: Insertable<ProjectEventTable>[] = [];
  const bookings: Insertable<BookingTable>[] = [];
  const bookingSeats: Insertable<BookingSeatTable>[] = [];
  const draws: Insertable<DrawTable>[] = [];
  const committeeSeats: Insertable<CommitteeSeatTable>[] = [];
  const perDay = new Map<number, number>();
  const secondariesWanted = Math.max(0, scale.bookings - scale.projects) / Math.max(1, scale.projects);
  const hex = (n: number) => n.toString(16).padStart(64, '0');

  for (let index = 0; index < scale.projects; index++) {
    const id = `prj-b-${String(index + 1).padStart(6, '0')}`;
    const host = rng.pick(platforms);
    // Weekdays only: evaluations happen on working days.
    // A host whose rooms are full that day moves to another day, as a real one would.
    const window = rng.pick([...WINDOWS]);
    const hostRooms = roomsOf.get(host) ?? [];
    let day = 0;
    for (let attempt = 0; attempt < 20; attempt++) {
      day = rng.int(0, YEAR_DAYS - 1);
      while ([0, 6].includes(new Date(YEAR_START.getTime() + day * DAY_MS).getUTCDay())) day = (day + 1) % YEAR_DAYS;
      const probe = day;
      if (
        hostRooms.some(
          (room) => seatsTaken(room.id, room.seats, probe).filter((taken) => (taken & window.slots) === 0).length >= 4,
        )
      )
        break;
    }
    const date = new Date(YEAR_START.getTime() + day * DAY_MS);
    const startsAt = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), window.start));
    const endsAt = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), window.end));
    const committeeSize = rng.pick([5, 7, 9]);
    const past = endsAt < REFERENCE_DATE;
    const status: ProjectStatus = past
      ? rng.chance(0.9)
        ? 'ARCHIVED'
        : 'EVALUATED'
      : rng.pick(['VENUES_CONFIRMED', 'FEE_ADVANCED', 'EXPERTS_DRAWING', 'COMMITTEE_CONFIRMED'] as const);

    // The MAIN booking in a host room, then SECONDARY ones in partner rooms; a project whose main room is full moves on.
    const arrangement = `arr-b-${index + 1}`;
    const placed: { bookingId: string; roomId: string; seats: number }[] = [];
    const place = (candidates: typeof rooms, role: 'MAIN' | 'SECONDARY', seats: number) => {
      for (const room of rng.sample(candidates, Math.min(candidates.length, 8))) {
        const numbers = freeSeatNumbers(room, day, window.slots, Math.min(seats, room.seats));
        if (!numbers) continue;
        const bookingId = `bk-b-${bookings.length + 1}`;
        bookings.push({
          id: bookingId,
          arrangement_id: arrangement,
          room_id: room.id,
          project_id: id,
          host_platform_id: host,
          role,
          seats: numbers.length,
          starts_at: startsAt,
          ends_at: endsAt,
          status: 'CONFIRMED',
          hold_expires_at: null,
          reason: null,
        });
        const during = `[${startsAt.toISOString()},${endsAt.toISOString()})`;
        for (const seat_no of numbers)
          bookingSeats.push({ booking_id: bookingId, room_id: room.id, seat_no, during, live: true });
        placed.push({ bookingId, roomId: room.id, seats: numbers.length });
        return true;
      }
      return false;
    };
    if (!place(roomsOf.get(host) ?? [], 'MAIN', rng.int(2, 4))) continue;
    const partnerRooms = (partnersOf.get(host) ?? []).flatMap((partner) => roomsOf.get(partner) ?? []);
    const otherRooms = partnerRooms.length ? partnerRooms : rooms.filter((room) => room.platform !== host);
    let secondaries = Math.floor(secondariesWanted) + (rng.chance(secondariesWanted % 1) ? 1 : 0);
    // Partner rooms first; when they are full that day, any other platform's room (the data stays consistent, the
    // agreements are only the demo's few).
    while (secondaries-- > 0)
      if (!place(otherRooms, 'SECONDARY', rng.int(1, 2)))
        place(
          rooms.filter((room) => room.platform !== host),
          'SECONDARY',
          rng.int(1, 2),
        );
    perDay.set(day, (perDay.get(day) ?? 0) + placed.length);

    const code = `HN-B-${String(index + 1).padStart(6, '0')}`;
    const submittedAt = new Date(startsAt.getTime() - rng.int(10, 30) * DAY_MS);
    const agency = `示例招标代理${rng.int(1, 40)}号有限公司`;
    projects.push({
      id,
      code,
      name: `示例项目${index + 1}`,
      category: 'CONSTRUCTION',
      department: 'HOUSING_AND_CONSTRUCTION',
      host_platform_id: host,
      tenderer: `示例招标人${rng.int(1, 500)}`,
      agency,
      bidders: ['示例投标人甲', '示例投标人乙', '示例投标人丙'],
      budget: `${rng.int(50, 3000)}000000`,
      mode: 'REMOTE',
      committee_size: committeeSize,
      tenderer_representatives: 0,
      evaluation_starts_at: startsAt,
      evaluation_ends_at: endsAt,
      status,
      fee_advance: null,
      submitted_by: `agency:${agency}`,
      created_at: submittedAt,
      updated_at: submittedAt,
    });
    // A real chain (submitted, filed) so archive verification holds on the seeded history too.
    const first = {
      projectId: id,
      seq: 1,
      at: submittedAt.toISOString(),
      kind: 'SUBMITTED',
      actor: `agency:${agency}`,
      detail: `project ${code} submitted for filing`,
      data: { code },
    };
    const firstHash = eventHash(GENESIS_HASH, first);
    const filedAt = new Date(submittedAt.getTime() + DAY_MS);
    const second = {
      projectId: id,
      seq: 2,
      at: filedAt.toISOString(),
      kind: 'FILED',
      actor: `supervisor:HOUSING_AND_CONSTRUCTION@${host}:bench`,
      detail: 'filing approved',
      data: {},
    };
    events.push(
      {
        project_id: id,
        seq: 1,
        at: submittedAt,
        kind: first.kind,
        actor: first.actor,
        detail: first.detail,
        data: JSON.stringify(first.data),
        prev_hash: GENESIS_HASH,
        hash: firstHash,
        event_key: null,
      },
      {
        project_id: id,
        seq: 2,
        at: filedAt,
        kind: second.kind,
        actor: second.actor,
        detail: second.detail,
        data: '{}',
        prev_hash: firstHash,
        hash: eventHash(firstHash, second),
        event_key: null,
      },
    );

    // Projects past venue arrangement and fee advance have a draw; completed ones seat their committee.
    if (status === 'VENUES_CONFIRMED' || status === 'FEE_ADVANCED') continue;
    const drawId = `drw-b-${index + 1}`;
    const completed = status !== 'EXPERTS_DRAWING';
    const requestedAt = new Date(startsAt.getTime() - 3 * DAY_MS);
    draws.push({
      id: drawId,
      project_id: id,
      status: completed ? 'COMPLETED' : 'PENDING',
      seed_commitment: hex(index + 1),
      seed: completed && past ? hex(index + 2) : null,
      seed_revealed: completed && past,
      supervisor_nonce: null,
      failure_reason: null,
      starts_at: startsAt,
      ends_at: endsAt,
      requested_at: requestedAt,
      completed_at: completed ? requestedAt : null,
    });
    if (!completed) continue;
    const seated = seatedOn.get(day) ?? new Set<string>();
    seatedOn.set(day, seated);
    let seatIndex = 0;
    for (const booking of placed) {
      for (let n = 0; n < booking.seats && seatIndex < committeeSize; n++, seatIndex++) {
        let expert = rng.pick(activeExperts);
        while (seated.has(expert)) expert = rng.pick(activeExperts);
        seated.add(expert);
        committeeSeats.push({
          id: `cs-b-${committeeSeats.length + 1}`,
          draw_id: drawId,
          project_id: id,
          booking_id: booking.bookingId,
          room_id: booking.roomId,
          specialty: rng.pick(SPECIALTIES),
          round: 1,
          status: past ? 'CHECKED_IN' : 'ACCEPTED',
          expert_id: expert,
          during: `[${startsAt.toISOString()},${endsAt.toISOString()})`,
          invited_at: requestedAt,
          answer_due_at: null,
          responded_at: requestedAt,
          reason: null,
          created_at: requestedAt,
        });
      }
    }
  }

  // Saga projects: FILED, hosted by Zhumadian, evaluated in the month after the demo "now"; arranged by the saga scenario.
  const sagaProjects: string[] = [];
  for (let index = 0; index < sagaCount; index++) {
    const id = `prj-saga-${String(index + 1).padStart(4, '0')}`;
    // Each its own half day in Zhumadian's room 1 (a MAIN booking takes the whole room), after the seeded year.
    const day = new Date(REFERENCE_DATE.getTime() + (40 + Math.floor(index / 2)) * DAY_MS);
    const [startHour, endHour] = index % 2 === 0 ? [1, 4] : [6, 9];
    const startsAt = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), startHour));
    const endsAt = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), endHour));
    const submittedAt = new Date(REFERENCE_DATE.getTime() - 2 * DAY_MS);
    const code = `ZMD-SAGA-${String(index + 1).padStart(4, '0')}`;
    const agency = '驻马店示例招标代理有限公司';
    projects.push({
      id,
      code,
      name: `联动示例项目${index + 1}`,
      category: 'CONSTRUCTION',
      department: 'HOUSING_AND_CONSTRUCTION',
      host_platform_id: '411700',
      tenderer: '驻马店市示例城市建设投资有限公司',
      agency,
      bidders: ['示例投标人甲', '示例投标人乙'],
      budget: '5000000000',
      mode: 'REMOTE',
      committee_size: 5,
      tenderer_representatives: 0,
      evaluation_starts_at: startsAt,
      evaluation_ends_at: endsAt,
      status: 'FILED',
      fee_advance: null,
      submitted_by: `agency:${agency}`,
      created_at: submittedAt,
      updated_at: submittedAt,
    });
    const first = {
      projectId: id,
      seq: 1,
      at: submittedAt.toISOString(),
      kind: 'SUBMITTED',
      actor: `agency:${agency}`,
      detail: `project ${code} submitted for filing`,
      data: { code },
    };
    const firstHash = eventHash(GENESIS_HASH, first);
    const second = {
      projectId: id,
      seq: 2,
      at: submittedAt.toISOString(),
      kind: 'FILED',
      actor: 'supervisor:HOUSING_AND_CONSTRUCTION@411700:bench',
      detail: 'filing approved',
      data: {},
    };
    events.push(
      {
        project_id: id,
        seq: 1,
        at: submittedAt,
        kind: first.kind,
        actor: first.actor,
        detail: first.detail,
        data: JSON.stringify(first.data),
        prev_hash: GENESIS_HASH,
        hash: firstHash,
        event_key: null,
      },
      {
        project_id: id,
        seq: 2,
        at: submittedAt,
        kind: second.kind,
        actor: second.actor,
        detail: second.detail,
        data: '{}',
        prev_hash: firstHash,
        hash: eventHash(firstHash, second),
        event_key: null,
      },
    );
    sagaProjects.push(id);
  }

  await insertChunks(dbs.projects, 'project', projects);
  await insertChunks(dbs.projects, 'project_event', events);
  await insertChunks(dbs.venues, 'booking', bookings);
  await insertChunks(dbs.venues, 'booking_seat', bookingSeats, 5000);
  await insertChunks(dbs.experts, 'draw', draws);
  await insertChunks(dbs.experts, 'committee_seat', committeeSeats);
  // A year of production data has been through autovacuum: the visibility map is set (index-only scans, such as the
  // draw's 30-day count over committee_seat_recent_idx, skip the heap) and the statistics are fresh. A freshly
  // bulk-loaded table has neither, and autovacuum would otherwise get to it in the middle of a measurement.
  for (const db of [dbs.venues, dbs.experts, dbs.projects] as Kysely<unknown>[])
    await sql`vacuum (analyze)`.execute(db);
  Object.assign(counts, {
    'project (bench)': projects.length,
    'project_event (bench)': events.length,
    booking: bookings.length,
    booking_seat: bookingSeats.length,
    draw: draws.length,
    committee_seat: committeeSeats.length,
  });

  const [busiest, busiestCount] = [...perDay.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0];
  const dayStart = new Date(YEAR_START.getTime() + busiest * DAY_MS);
  const from = new Date(
    Date.UTC(dayStart.getUTCFullYear(), dayStart.getUTCMonth(), dayStart.getUTCDate()) - CHINA_OFFSET_MS,
  );
  return {
    counts,
    busiestDay: {
      from: from.toISOString(),
      to: new Date(from.getTime() + DAY_MS).toISOString(),
      bookings: busiestCount,
    },
    sagaProjects,
    seconds: (Date.now() - started) / 1000,
  };
}
