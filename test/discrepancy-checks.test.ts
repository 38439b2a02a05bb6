// The ROOM_OVERBOOKED check on hand-made snapshots: the seat constraint makes an over-held room impossible through the
// API, so these facts are written by hand to show the check finds one (and only one) when bookings and blocks together
// exceed the room, and nothing when they fit or merely touch.
import {
  DISCREPANCY_CHECKS,
  findDiscrepancies,
  type BlockView,
  type BookingView,
  type RangeSnapshot,
} from '../subgraphs/projects';

const LIVE = { booking: ['HELD', 'CONFIRMED'], seat: ['INVITED', 'ACCEPTED', 'CHECKED_IN'], seated: ['ACCEPTED'] };
const NOW = new Date('2027-05-01T00:00:00Z');
const ROOM = { id: 'room-a', name: '第一评标室', seats: 10, venue: { platform: { id: '411700' } } };
const OTHER_ROOM = { ...ROOM, id: 'room-b', name: '第二评标室' };
const PROJECT = {
  id: 'p1',
  code: 'OVER-1',
  status: 'SCHEDULED',
  agency: 'a',
  hostPlatform: { id: '411700' },
  evaluationStartsAt: '2027-05-06T01:00:00Z',
  evaluationEndsAt: '2027-05-06T04:00:00Z',
  committeeSize: 5,
  tendererRepresentatives: 0,
  inRange: false,
};

function booking(id: string, seats: number, startsAt: string, endsAt: string, status = 'CONFIRMED'): BookingView {
  return { id, status, role: 'MAIN', seats, startsAt, endsAt, holdExpiresAt: null, room: ROOM };
}
function block(id: string, seats: number, startsAt: string, endsAt: string, room = ROOM): BlockView {
  return { id, seats, startsAt, endsAt, reason: '本地评标', externalRef: `LOCAL-${id}`, room };
}
function snapshot(bookings: BookingView[], blocks: BlockView[]): RangeSnapshot {
  return {
    projects: new Map([[PROJECT.id, PROJECT]]),
    bookings: new Map(bookings.map((item) => [item.id, { ...item, projectId: PROJECT.id }])),
    blocks: new Map(blocks.map((item) => [item.id, item])),
    partnersOf: new Map(),
  };
}
const overbooked = (facts: RangeSnapshot) =>
  findDiscrepancies({ snapshot: facts, now: NOW, live: LIVE }).filter((item) => item.kind === 'ROOM_OVERBOOKED');

it('is one of the named checks', () => {
  expect(DISCREPANCY_CHECKS.map((check) => check.name)).toContain('ROOM_OVERBOOKED');
});

it('finds a room whose booking and block together hold more than its seats, over the stretch they do', () => {
  const found = overbooked(
    snapshot(
      [booking('bk-1', 6, '2027-05-06T01:00:00Z', '2027-05-06T04:00:00Z')],
      [block('blk-1', 5, '2027-05-06T03:00:00Z', '2027-05-06T06:00:00Z')],
    ),
  );
  expect(found).toHaveLength(1);
  expect(found[0]).toEqual(
    expect.objectContaining({
      projectId: 'p1',
      projectCode: 'OVER-1',
      bookingId: 'bk-1',
      platformId: '411700',
      resolution: 'removeRoomBlock or rejectBooking',
    }),
  );
  // 11:00–12:00 in China Standard Time, 11 of 10 seats, both holders named.
  expect(found[0].detail).toMatch(/has 10 seats but up to 11 are held 2027-05-06 11:00–2027-05-06 12:00 \(UTC\+8\)/);
  expect(found[0].detail).toContain('booking bk-1');
  expect(found[0].detail).toContain('block blk-1 (externalRef LOCAL-blk-1');
});

it('finds blocks alone over the room, and merges the adjacent stretches of one excess', () => {
  const found = overbooked(
    snapshot(
      [],
      [
        block('blk-1', 6, '2027-05-06T01:00:00Z', '2027-05-06T05:00:00Z'),
        block('blk-2', 5, '2027-05-06T02:00:00Z', '2027-05-06T03:00:00Z'),
        block('blk-3', 7, '2027-05-06T03:00:00Z', '2027-05-06T04:00:00Z'),
      ],
    ),
  );
  expect(found).toHaveLength(1);
  expect(found[0]).toEqual(expect.objectContaining({ projectId: null, bookingId: null, platformId: '411700' }));
  expect(found[0].detail).toMatch(/up to 13 are held 2027-05-06 10:00–2027-05-06 12:00/);
});

it('finds nothing when the seats fit, when windows only touch, in other rooms, or for bookings that hold nothing', () => {
  expect(
    overbooked(
      snapshot(
        [
          booking('bk-1', 6, '2027-05-06T01:00:00Z', '2027-05-06T04:00:00Z'),
          booking('bk-gone', 9, '2027-05-06T01:00:00Z', '2027-05-06T04:00:00Z', 'RELEASED'),
        ],
        [
          block('blk-fits', 4, '2027-05-06T01:00:00Z', '2027-05-06T04:00:00Z'),
          block('blk-after', 10, '2027-05-06T04:00:00Z', '2027-05-06T06:00:00Z'),
          block('blk-elsewhere', 10, '2027-05-06T01:00:00Z', '2027-05-06T04:00:00Z', OTHER_ROOM),
        ],
      ),
    ),
  ).toEqual([]);
});
