// What the busy-day writes act on, made before each measured run (outside its clock): invitations to answer, seats
// whose window is open for check-in, HELD bookings at a partner's room for that platform's operator to confirm, and
// SUBMITTED projects are made by the write stream itself (submitProject) and filed later in the same run.
import { randomUUID } from 'node:crypto';
import { databaseUrl, type HubConfig } from '../lib/config';
import { openDomainDatabase, type DomainDatabase } from '../lib/db';
import { REFERENCE_DATE } from '../app/seed/generate';
import type { ExpertsDatabase } from '../subgraphs/experts/types';
import type { ProjectsDatabase } from '../subgraphs/projects/types';
import type { VenuesDatabase } from '../subgraphs/venues/types';

const DAY_MS = 86_400_000;
/**
 * Busy-day projects start after the seeded year (which ends a month after REFERENCE_DATE) and within the two years a
 * submission may look ahead; their rooms (never Zhumadian's, which the saga books) are otherwise free.
 */
const FIRST_DAY = 100;

export interface Invitation {
  seatId: string;
  expertId: string;
  platform: string;
}
export interface OpenSeat extends Invitation {
  roomId: string;
}
export interface HeldBooking {
  bookingId: string;
  platform: string;
}
export interface Material {
  invitations: Invitation[];
  checkIns: OpenSeat[];
  holds: HeldBooking[];
}

export interface MaterialDatabases {
  experts: DomainDatabase<ExpertsDatabase>;
  projects: DomainDatabase<ProjectsDatabase>;
  venues: DomainDatabase<VenuesDatabase>;
  close(): Promise<void>;
}

export function openMaterialDatabases(config: HubConfig): MaterialDatabases {
  const experts = openDomainDatabase<ExpertsDatabase>(databaseUrl(config, 'experts'), 'experts', 2);
  const projects = openDomainDatabase<ProjectsDatabase>(databaseUrl(config, 'projects'), 'projects', 2);
  const venues = openDomainDatabase<VenuesDatabase>(databaseUrl(config, 'venues'), 'venues', 2);
  return {
    experts,
    projects,
    venues,
    close: async () => void (await Promise.all([experts.close(), projects.close(), venues.close()])),
  };
}

/** A half day of its own for every busy-day project (and so a free main room and free partner seats). */
let nextHalfDay = 0;
export function nextWindow(): { startsAt: Date; endsAt: Date } {
  return nextWindowOf(nextHalfDay++);
}

/** The `index`-th half day from FIRST_DAY (without taking it). */
export function nextWindowOf(index: number): { startsAt: Date; endsAt: Date } {
  const day = new Date(REFERENCE_DATE.getTime() + (FIRST_DAY + Math.floor(index / 2)) * DAY_MS);
  const [start, end] = index % 2 === 0 ? [1, 4] : [6, 9];
  const at = (hour: number) => new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), hour));
  return { startsAt: at(start), endsAt: at(end) };
}

let expertCursor = '';
/** Experts with no committee seat at all: a new seat of theirs can overlap nothing. Never the same one twice in a run. */
async function freshExperts(db: MaterialDatabases, count: number): Promise<{ id: string; platform: string }[]> {
  const rows = await db.experts.db
    .selectFrom('expert')
    .select(['id', 'home_platform_id'])
    .where('status', '!=', 'SUSPENDED')
    .where('id', '>', expertCursor)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('committee_seat')
            .select('committee_seat.id')
            .whereRef('committee_seat.expert_id', '=', 'expert.id'),
        ),
      ),
    )
    .orderBy('id')
    .limit(count)
    .execute();
  if (rows.length < count) throw new Error(`busy: only ${rows.length} experts without seats are left, ${count} wanted`);
  expertCursor = rows[rows.length - 1].id;
  return rows.map((row) => ({ id: row.id, platform: row.home_platform_id }));
}

const projectRow = (
  id: string,
  host: string,
  window: { startsAt: Date; endsAt: Date },
  status: 'EXPERTS_DRAWING' | 'COMMITTEE_CONFIRMED' | 'FILED',
) => ({
  id,
  code: `BUSY-${id.slice(-12).toUpperCase()}`,
  name: `繁忙日示例项目${id.slice(-6)}`,
  category: 'CONSTRUCTION' as const,
  department: 'HOUSING_AND_CONSTRUCTION' as const,
  host_platform_id: host,
  tenderer: '示例招标人',
  agency: '示例招标代理有限公司',
  bidders: ['示例投标人甲', '示例投标人乙'],
  budget: '500000000',
  mode: 'REMOTE' as const,
  committee_size: 5,
  tenderer_representatives: 0,
  evaluation_starts_at: window.startsAt,
  evaluation_ends_at: window.endsAt,
  status,
  fee_advance: null,
  submitted_by: 'agency:示例招标代理有限公司',
});

/**
 * Seats of pending draws (no groups, so no answer completes a committee): INVITED ones, answered within INVITE_TTL;
 * ACCEPTED ones whose evaluation window is open now, for check-in. Each draw's project exists in the projects domain,
 * so the timeline jobs the writes start succeed as they do in production.
 */
async function seats(
  db: MaterialDatabases,
  count: number,
  kind: 'INVITED' | 'ACCEPTED',
  projectStatus: 'EXPERTS_DRAWING' | 'COMMITTEE_CONFIRMED',
): Promise<OpenSeat[]> {
  if (count === 0) return [];
  const experts = await freshExperts(db, count);
  const now = new Date();
  const out: OpenSeat[] = [];
  const projects = [];
  const draws = [];
  const rows = [];
  for (const expert of experts) {
    const key = randomUUID().replace(/-/g, '');
    // Invitations: distinct experts, so any future window will do; they book no room.
    const later = new Date(REFERENCE_DATE.getTime() + (FIRST_DAY + (out.length % 300)) * DAY_MS);
    const window =
      kind === 'ACCEPTED'
        ? { startsAt: new Date(now.getTime() - 30 * 60_000), endsAt: new Date(now.getTime() + 4 * 3_600_000) }
        : { startsAt: later, endsAt: new Date(later.getTime() + 3 * 3_600_000) };
    const projectId = `prj-busy-${key}`;
    const roomId = `room-${expert.platform}-1`;
    projects.push(projectRow(projectId, expert.platform, window, projectStatus));
    draws.push({
      id: `drw-busy-${key}`,
      project_id: projectId,
      status: 'PENDING' as const,
      seed_commitment: key.padEnd(64, '0'),
      seed: null,
      supervisor_nonce: null,
      failure_reason: null,
      starts_at: window.startsAt,
      ends_at: window.endsAt,
      completed_at: null,
    });
    rows.push({
      id: `cs-busy-${key}`,
      draw_id: `drw-busy-${key}`,
      project_id: projectId,
      booking_id: `bk-busy-${key}`,
      room_id: roomId,
      specialty: 'CIVIL_ENGINEERING',
      round: 1,
      status: kind,
      expert_id: expert.id,
      during: `[${window.startsAt.toISOString()},${window.endsAt.toISOString()})`,
      invited_at: now,
      answer_due_at: kind === 'INVITED' ? new Date(now.getTime() + 3 * 3_600_000) : null,
      responded_at: kind === 'ACCEPTED' ? now : null,
      reason: null,
    });
    out.push({ seatId: `cs-busy-${key}`, expertId: expert.id, platform: expert.platform, roomId });
  }
  await db.projects.db.insertInto('project').values(projects).execute();
  await db.experts.db.insertInto('draw').values(draws).execute();
  await db.experts.db.insertInto('committee_seat').values(rows).execute();
  return out;
}

/** Host/partner pairs whose agreement needs the partner's decision: a secondary booking there stays HELD until confirmed. */
async function decidingPairs(db: MaterialDatabases): Promise<[string, string][]> {
  const rows = await db.venues.db
    .selectFrom('cooperation_agreement')
    .select(['platform_id', 'partner_id'])
    .where('auto_confirm', '=', false)
    .orderBy('platform_id')
    .orderBy('partner_id')
    .execute();
  // Never Zhumadian: the saga scenarios book its room 1 and count its VENUES_ARRANGING projects, and holds left
  // undecided at the end of a run would stand in their way.
  return rows
    .filter((row) => row.platform_id !== '411700' && row.partner_id !== '411700')
    .map((row) => [row.platform_id, row.partner_id]);
}

type Send = (
  token: string,
  query: string,
  variables: Record<string, unknown>,
) => Promise<{ errors?: { message: string }[] }>;
const ARRANGE =
  'mutation Arrange($projectId: ID!, $mainRoomId: ID!, $secondary: [SeatRequestInput!]!) { arrangeVenues(projectId: $projectId, mainRoomId: $mainRoomId, secondary: $secondary) { status } }';

/**
 * HELD bookings as production makes them: FILED projects (rows, as the data set's are) arranged through the gateway by
 * their host's operator with one seat at a partner whose agreement is not auto-confirmed; the jobs process holds
 * them. Waits until the holds exist.
 */
async function holds(
  db: MaterialDatabases,
  count: number,
  send: Send,
  operatorToken: (platform: string) => Promise<string>,
): Promise<HeldBooking[]> {
  if (count === 0) return [];
  const pairs = await decidingPairs(db);
  const planned = Array.from({ length: count }, (_, index) => {
    const [host, partner] = pairs[index % pairs.length];
    return { id: `prj-busy-${randomUUID().replace(/-/g, '')}`, host, partner, window: nextWindow() };
  });
  await db.projects.db
    .insertInto('project')
    .values(planned.map((project) => projectRow(project.id, project.host, project.window, 'FILED')))
    .execute();
  let next = 0;
  const refused: string[] = [];
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (next < planned.length) {
        const project = planned[next++];
        const body = await send(await operatorToken(project.host), ARRANGE, {
          projectId: project.id,
          mainRoomId: `room-${project.host}-1`,
          secondary: [{ roomId: `room-${project.partner}-1`, seats: 1 }],
        });
        if (body.errors) refused.push(`${project.id}: ${body.errors[0].message}`);
      }
    }),
  );
  if (refused.length) throw new Error(`busy: ${refused.length} arrangements refused, first: ${refused[0]}`);
  const ids = planned.map((project) => project.id);
  const deadline = Date.now() + 120_000;
  for (;;) {
    const held = await db.venues.db
      .selectFrom('booking')
      .innerJoin('room', 'room.id', 'booking.room_id')
      .innerJoin('venue', 'venue.id', 'room.venue_id')
      .select(['booking.id', 'venue.platform_id'])
      .where('booking.project_id', 'in', ids)
      .where('booking.status', '=', 'HELD')
      .execute();
    if (held.length >= count) return held.map((row) => ({ bookingId: row.id, platform: row.platform_id }));
    if (Date.now() > deadline) throw new Error(`busy: only ${held.length} of ${count} holds were made within 120 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The material for `writes` writes of the busy mix. */
export async function prepareMaterial(
  db: MaterialDatabases,
  writes: number,
  mix: { invitation: number; confirm: number; checkIn: number },
  send: Send,
  operatorToken: (platform: string) => Promise<string>,
): Promise<Material> {
  const invitations = await seats(db, Math.ceil(writes * mix.invitation) + 5, 'INVITED', 'EXPERTS_DRAWING');
  const checkIns = await seats(db, Math.ceil(writes * mix.checkIn) + 5, 'ACCEPTED', 'COMMITTEE_CONFIRMED');
  return { invitations, checkIns, holds: await holds(db, Math.ceil(writes * mix.confirm) + 5, send, operatorToken) };
}
