// Reconciliation fixtures: projects, bookings, committee seats and ledger entries written straight into the domains'
// tables, because most discrepancies are exactly what the workflow refuses to produce.
import { createHash } from 'node:crypto';
import type { HubDatabases } from '../../app/hub-databases';
import type { ProjectStatus } from '../../subgraphs/projects/types';

export const HOST = '411700';
export const PARTNER = '411721';
/** The room block seedEveryDiscrepancy writes into the host room. */
export const BLOCK_ID = 'blk-rec-local';
export const BLOCK_REF = 'REC-LOCAL-1';

interface Rooms {
  host: string;
  partner: string;
}

export async function roomsOf(databases: HubDatabases, platformId: string): Promise<string[]> {
  const rows = await databases.venues.db
    .selectFrom('room')
    .innerJoin('venue', 'venue.id', 'room.venue_id')
    .select('room.id')
    .where('venue.platform_id', '=', platformId)
    .orderBy('room.id')
    .execute();
  return rows.map((row) => row.id);
}

export interface FixtureProject {
  id: string;
  code: string;
  status: ProjectStatus;
  startsAt: Date;
  endsAt: Date;
  host?: string;
  committeeSize?: number;
}

export async function insertProjects(databases: HubDatabases, projects: readonly FixtureProject[]): Promise<void> {
  const rows = projects.map((project) => ({
    id: project.id,
    code: project.code,
    name: `reconciliation fixture ${project.code}`,
    category: 'CONSTRUCTION' as const,
    department: 'HOUSING_AND_CONSTRUCTION' as const,
    host_platform_id: project.host ?? HOST,
    tenderer: 'fixture tenderer',
    agency: 'fixture-agency',
    bidders: ['bidder a', 'bidder b', 'bidder c'],
    budget: 5_000_000_00,
    mode: 'REMOTE' as const,
    committee_size: project.committeeSize ?? 5,
    tenderer_representatives: 0,
    evaluation_starts_at: project.startsAt,
    evaluation_ends_at: project.endsAt,
    status: project.status,
    fee_advance: null,
    submitted_by: 'agency:fixture-agency',
  }));
  for (let offset = 0; offset < rows.length; offset += 500)
    await databases.projects.db
      .insertInto('project')
      .values(rows.slice(offset, offset + 500))
      .execute();
}

export interface FixtureBooking {
  id: string;
  projectId: string;
  roomId: string;
  role: 'MAIN' | 'SECONDARY';
  status: 'HELD' | 'CONFIRMED' | 'REJECTED' | 'EXPIRED' | 'RELEASED';
  startsAt: Date;
  endsAt: Date;
  holdExpiresAt?: Date;
  host?: string;
  /** 3 for a main booking, 2 for a secondary one, unless given. */
  seats?: number;
}

export async function insertBookings(databases: HubDatabases, bookings: readonly FixtureBooking[]): Promise<void> {
  const rows = bookings.map((booking) => ({
    id: booking.id,
    arrangement_id: `arr-${booking.projectId}`,
    room_id: booking.roomId,
    project_id: booking.projectId,
    host_platform_id: booking.host ?? HOST,
    role: booking.role,
    seats: booking.seats ?? (booking.role === 'MAIN' ? 3 : 2),
    starts_at: booking.startsAt,
    ends_at: booking.endsAt,
    status: booking.status,
    hold_expires_at: booking.status === 'HELD' ? (booking.holdExpiresAt ?? new Date(Date.now() + 3600_000)) : null,
    reason: null,
  }));
  for (let offset = 0; offset < rows.length; offset += 500)
    await databases.venues.db
      .insertInto('booking')
      .values(rows.slice(offset, offset + 500))
      .execute();
}

export interface FixtureSeat {
  id: string;
  bookingId: string;
  roomId: string;
  status: 'INVITED' | 'ACCEPTED' | 'DECLINED' | 'REPLACED' | 'CHECKED_IN' | 'WITHDRAWN';
  expertId: string;
}

/** A completed draw of the project with the given seats. */
export async function insertDraws(
  databases: HubDatabases,
  draws: readonly { projectId: string; startsAt: Date; endsAt: Date; seats: readonly FixtureSeat[] }[],
): Promise<void> {
  const drawRows = draws.map((draw) => ({
    id: `draw-${draw.projectId}`,
    project_id: draw.projectId,
    status: 'COMPLETED' as const,
    seed_commitment: createHash('sha256').update(draw.projectId).digest('hex'),
    seed: null,
    supervisor_nonce: null,
    failure_reason: null,
    starts_at: draw.startsAt,
    ends_at: draw.endsAt,
    completed_at: draw.startsAt,
  }));
  const seatRows = draws.flatMap((draw) =>
    draw.seats.map((seat) => ({
      id: seat.id,
      draw_id: `draw-${draw.projectId}`,
      project_id: draw.projectId,
      booking_id: seat.bookingId,
      room_id: seat.roomId,
      specialty: 'CIVIL_ENGINEERING',
      round: 1,
      status: seat.status,
      expert_id: seat.expertId,
      during: `[${draw.startsAt.toISOString()},${draw.endsAt.toISOString()})`,
      invited_at: null,
      answer_due_at: null,
      responded_at: null,
      reason: null,
    })),
  );
  for (let offset = 0; offset < drawRows.length; offset += 500)
    await databases.experts.db
      .insertInto('draw')
      .values(drawRows.slice(offset, offset + 500))
      .execute();
  for (let offset = 0; offset < seatRows.length; offset += 500)
    await databases.experts.db
      .insertInto('committee_seat')
      .values(seatRows.slice(offset, offset + 500))
      .execute();
}

/** The entries of an advance: agency → host, and host → partner when a partner is given. */
export async function insertLedger(
  databases: HubDatabases,
  entries: readonly { projectId: string; host?: string; partner?: string }[],
): Promise<void> {
  const rows = entries.flatMap(({ projectId, host = HOST, partner }) => [
    {
      id: `${projectId}:advance`,
      project_id: projectId,
      kind: 'FEE_ADVANCE' as const,
      payer: 'agency:fixture-agency',
      payee: `platform:${host}`,
      amount: 480_000,
      reverses: null,
      detail: '{}',
      settled_at: null,
    },
    ...(partner
      ? [
          {
            id: `${projectId}:payable:${partner}`,
            project_id: projectId,
            kind: 'PARTNER_PAYABLE' as const,
            payer: `platform:${host}`,
            payee: `platform:${partner}`,
            amount: 160_000,
            reverses: null,
            detail: '{}',
            settled_at: null,
          },
        ]
      : []),
  ]);
  for (let offset = 0; offset < rows.length; offset += 500)
    await databases.projects.db
      .insertInto('ledger_entry')
      .values(rows.slice(offset, offset + 500))
      .execute();
}

/**
 * One project per discrepancy kind and a clean one, evaluated on one day of the given range. Returns what the report
 * must list: kind, project code and the id it points at.
 */
export async function seedEveryDiscrepancy(databases: HubDatabases, day: Date, rooms: Rooms) {
  const startsAt = new Date(day.getTime() + 1 * 3600_000);
  const endsAt = new Date(day.getTime() + 9 * 3600_000);
  const project = (key: string, status: ProjectStatus): FixtureProject => ({
    id: `prj-rec-${key}`,
    code: `REC-${key.toUpperCase()}`,
    status,
    startsAt,
    endsAt,
  });
  await insertProjects(databases, [
    project('clean', 'IN_EVALUATION'),
    project('window', 'FEE_ADVANCED'),
    project('closed', 'CANCELLED'),
    project('hold', 'VENUES_ARRANGING'),
    project('seat', 'EXPERTS_DRAWING'),
    project('committee', 'IN_EVALUATION'),
    project('ledger', 'FEE_ADVANCED'),
  ]);
  const main = (
    key: string,
    roomId: string,
    status: FixtureBooking['status'] = 'CONFIRMED',
    window = { startsAt, endsAt },
  ): FixtureBooking => ({
    id: `bk-rec-${key}-main`,
    projectId: `prj-rec-${key}`,
    roomId,
    role: 'MAIN',
    status,
    ...window,
  });
  // No booking_seat rows are written, so rooms may be shared: the seat exclusion constraint is not what this tests. Each
  // booking takes one seat, so the shared rooms still fit (the host's 6 live bookings in its 6-seat room), but for the
  // one block below.
  const oneSeat = (booking: FixtureBooking): FixtureBooking => ({ seats: 1, ...booking });
  const bookings: FixtureBooking[] = [
    main('clean', rooms.host),
    {
      id: 'bk-rec-clean-secondary',
      projectId: 'prj-rec-clean',
      roomId: rooms.partner,
      role: 'SECONDARY',
      status: 'CONFIRMED',
      startsAt,
      endsAt,
    },
    main('window', rooms.host, 'CONFIRMED', { startsAt, endsAt: new Date(endsAt.getTime() - 4 * 3600_000) }),
    main('closed', rooms.host),
    main('hold', rooms.host, 'HELD'),
    {
      id: 'bk-rec-hold-secondary',
      projectId: 'prj-rec-hold',
      roomId: rooms.partner,
      role: 'SECONDARY',
      status: 'HELD',
      startsAt,
      endsAt,
      holdExpiresAt: new Date(Date.now() - 3600_000),
    },
    main('seat', rooms.host),
    {
      id: 'bk-rec-seat-secondary',
      projectId: 'prj-rec-seat',
      roomId: rooms.partner,
      role: 'SECONDARY',
      status: 'REJECTED',
      startsAt,
      endsAt,
    },
    main('committee', rooms.host),
    {
      id: 'bk-rec-ledger-main',
      projectId: 'prj-rec-ledger',
      roomId: rooms.host,
      role: 'MAIN',
      status: 'CONFIRMED',
      startsAt: new Date(day.getTime() + 10 * 3600_000),
      endsAt: new Date(day.getTime() + 14 * 3600_000),
    },
  ];
  await insertBookings(databases, bookings.map(oneSeat));
  // A block written around the seat constraint: with the ledger project's booking it holds 7 of the host room's 6 seats.
  await databases.venues.db
    .insertInto('room_block')
    .values({
      id: BLOCK_ID,
      platform_id: HOST,
      external_ref: BLOCK_REF,
      room_id: rooms.host,
      seats: 6,
      starts_at: new Date(day.getTime() + 11 * 3600_000),
      ends_at: new Date(day.getTime() + 13 * 3600_000),
      reason: '本地评标 (fixture)',
    })
    .execute();
  await databases.projects.db
    .updateTable('project')
    .set({
      evaluation_starts_at: new Date(day.getTime() + 10 * 3600_000),
      evaluation_ends_at: new Date(day.getTime() + 14 * 3600_000),
    })
    .where('id', '=', 'prj-rec-ledger')
    .execute();
  let expert = 0;
  const seats = (key: string, bookingId: string, roomId: string, statuses: FixtureSeat['status'][]) =>
    statuses.map((status, index) => ({
      id: `seat-rec-${key}-${index + 1}`,
      bookingId,
      roomId,
      status,
      expertId: `exp-${String(++expert).padStart(5, '0')}`,
    }));
  await insertDraws(databases, [
    {
      projectId: 'prj-rec-clean',
      startsAt,
      endsAt,
      seats: [
        ...seats('clean', 'bk-rec-clean-main', rooms.host, ['CHECKED_IN', 'CHECKED_IN', 'ACCEPTED', 'DECLINED']),
        ...seats('clean-2', 'bk-rec-clean-secondary', rooms.partner, ['CHECKED_IN', 'CHECKED_IN']),
      ],
    },
    {
      projectId: 'prj-rec-seat',
      startsAt,
      endsAt,
      seats: [
        ...seats('seat', 'bk-rec-seat-main', rooms.host, ['ACCEPTED']),
        ...seats('seat-2', 'bk-rec-seat-secondary', rooms.partner, ['INVITED']),
      ],
    },
    {
      projectId: 'prj-rec-committee',
      startsAt,
      endsAt,
      seats: seats('committee', 'bk-rec-committee-main', rooms.host, [
        'CHECKED_IN',
        'ACCEPTED',
        'ACCEPTED',
        'DECLINED',
        'WITHDRAWN',
      ]),
    },
  ]);
  await insertLedger(databases, [
    { projectId: 'prj-rec-clean', partner: PARTNER },
    { projectId: 'prj-rec-ledger', partner: PARTNER },
  ]);
  return [
    { kind: 'WINDOW_MISMATCH', projectCode: 'REC-WINDOW', target: 'bk-rec-window-main' },
    { kind: 'LIVE_BOOKING_OF_CLOSED_PROJECT', projectCode: 'REC-CLOSED', target: 'bk-rec-closed-main' },
    { kind: 'EXPIRED_HOLD', projectCode: 'REC-HOLD', target: 'bk-rec-hold-secondary' },
    { kind: 'SEAT_WITHOUT_CONFIRMED_BOOKING', projectCode: 'REC-SEAT', target: 'seat-rec-seat-2-1' },
    { kind: 'INCOMPLETE_COMMITTEE', projectCode: 'REC-COMMITTEE', target: 'prj-rec-committee' },
    { kind: 'ROOM_OVERBOOKED', projectCode: 'REC-LEDGER', target: 'bk-rec-ledger-main' },
    { kind: 'LEDGER_MISMATCH', projectCode: 'REC-LEDGER', target: 'prj-rec-ledger:payable:411721' },
  ];
}
