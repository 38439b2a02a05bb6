// The schedule's tags by day (lib/cache-tags.ts): a booking write must meet every schedule answer that could list the
// booking, whatever the windows and time of day (China days, across midnight), and should leave the others alone.
import fc from 'fast-check';
import { bookingChangeTags, scheduleDays, scheduleTags } from '../lib/cache-tags';

const START = Date.parse('2027-05-01T00:00:00+08:00');
const MINUTE = 60_000;
const meets = (a: readonly string[], b: readonly string[]) => a.some((tag) => b.includes(tag));

it('names the China days of a window, midnight to midnight at UTC+8', () => {
  expect(scheduleDays(new Date('2027-05-10T15:00:00Z'), new Date('2027-05-10T17:00:00Z'))).toEqual([
    '2027-05-10',
    '2027-05-11',
  ]);
  expect(scheduleDays(new Date('2027-05-10T00:00:00+08:00'), new Date('2027-05-11T00:00:00+08:00'))).toEqual([
    '2027-05-10',
  ]);
  expect(scheduleDays(new Date('2027-05-10T00:00:00+08:00'), new Date('2027-07-20T00:00:00+08:00'))).toBeNull();
  expect(scheduleTags('411700', new Date('x'), new Date('2027-05-10T00:00:00Z'))).toEqual(['any']);
});

it('a booking write meets every schedule answer that could list it', () => {
  const platform = fc.constantFrom('411700', '411721', '410100');
  fc.assert(
    fc.property(
      fc.record({
        startsAt: fc.integer({ min: 0, max: 20 * 24 * 60 }),
        minutes: fc.integer({ min: 1, max: 3 * 24 * 60 }),
        room: platform,
        host: platform,
        from: fc.integer({ min: 0, max: 20 * 24 * 60 }),
        length: fc.integer({ min: 1, max: 31 * 24 * 60 }),
        scope: fc.option(platform, { nil: null }),
      }),
      ({ startsAt, minutes, room, host, from, length, scope }) => {
        const booking = {
          id: 'bk-1',
          platforms: [room, host],
          startsAt: new Date(START + startsAt * MINUTE),
          endsAt: new Date(START + (startsAt + minutes) * MINUTE),
        };
        const window = { from: new Date(START + from * MINUTE), to: new Date(START + (from + length) * MINUTE) };
        const listed =
          booking.startsAt < window.to &&
          booking.endsAt > window.from &&
          (scope === null || scope === room || scope === host);
        const ends = meets(scheduleTags(scope, window.from, window.to), bookingChangeTags([booking]));
        if (listed) expect(ends).toBe(true);
        // Answers of other platforms, and of days the booking does not touch, are left alone.
        const days = scheduleDays(booking.startsAt, booking.endsAt) ?? [];
        const windowDays = scheduleDays(window.from, window.to) ?? [];
        const shareADay = days.some((day) => windowDays.includes(day));
        if (!shareADay || (scope !== null && scope !== room && scope !== host)) expect(ends).toBe(false);
      },
    ),
    { numRuns: 2000 },
  );
});
