// lib/china-time.ts: the hub's one time zone, UTC+8 all year.
import { chinaDay, chinaMidnight, chinaMinute, CHINA_OFFSET_MS } from '../lib/china-time';

it('is eight hours ahead of UTC', () => {
  expect(CHINA_OFFSET_MS).toBe(
    new Date('2027-04-06T00:00:00Z').getTime() - new Date('2027-04-06T00:00:00+08:00').getTime(),
  );
});

it('turns the calendar day at 16:00 UTC, China midnight', () => {
  expect(chinaDay(new Date('2027-04-06T15:59:59.999Z'))).toBe('2027-04-06');
  expect(chinaDay(new Date('2027-04-06T16:00:00Z'))).toBe('2027-04-07');
  expect(chinaMidnight(new Date('2027-04-06T15:59:59.999Z'))).toEqual(new Date('2027-04-06T00:00:00+08:00'));
  expect(chinaMidnight(new Date('2027-04-06T16:00:00Z'))).toEqual(new Date('2027-04-07T00:00:00+08:00'));
});

it('shows the wall clock in China for a person', () => {
  expect(chinaMinute('2027-04-06T01:30:00Z')).toBe('2027-04-06 09:30');
  expect(chinaMinute(new Date('2027-12-31T16:05:00Z'))).toBe('2028-01-01 00:05');
});
