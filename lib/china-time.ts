// China Standard Time, the hub's one time zone: UTC+8 all year (no daylight saving). The offset is written here only.

/** UTC+8 in milliseconds. */
export const CHINA_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 24 * 3_600_000;

/** The calendar day (YYYY-MM-DD) in China Standard Time of an instant: what employment and penalty dates mean. */
export function chinaDay(at: Date): string {
  return new Date(at.getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** The wall clock in China Standard Time, 'YYYY-MM-DD HH:mm', for messages a person reads. */
export function chinaMinute(at: Date | string): string {
  return new Date(new Date(at).getTime() + CHINA_OFFSET_MS).toISOString().slice(0, 16).replace('T', ' ');
}

/** The instant the China calendar day holding `at` began (its 00:00 at UTC+8). */
export function chinaMidnight(at: Date): Date {
  return new Date(Math.floor((at.getTime() + CHINA_OFFSET_MS) / DAY_MS) * DAY_MS - CHINA_OFFSET_MS);
}
