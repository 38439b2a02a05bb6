// Versions of cache tags in Redis, shared by every gateway replica and the jobs process, and the tags a job's run
// changes. A tag names something an answer may contain (gateway/cache-tags.ts lists the vocabulary); a write moves the
// hub's clock one step and stamps each tag it changed with the new reading, in one atomic script. An answer computed
// after reading the clock at `since` still holds while none of its tags bears a stamp above `since`.
import type { Redis } from 'ioredis';
import { chinaDay, chinaMidnight } from './china-time';

/** In every entry; stamped by writes nobody described, so they end every answer ("when in doubt, end it"). */
export const ALL_TAG = 'all';
/** In entries holding a field whose dependencies are not described; stamped by every write. */
export const ANY_TAG = 'any';

/**
 * How long a tag's stamp is kept: far longer than any answer may be kept (60 s, the longest max-age), so a stamp only
 * lapses once every answer it could have ended is gone anyway.
 */
const STAMP_TTL_SECONDS = 3600;

const clockKey = (prefix: string) => `${prefix}:cache:clock`;
const tagKey = (prefix: string, tag: string) => `${prefix}:cache:tag:${tag}`;

// KEYS[1] the clock, KEYS[2..] the tags; ARGV[1] the stamps' lifetime. Atomic: no reading of the clock sees the new
// value before every tag bears it.
const STAMP_SCRIPT = `
local now = redis.call('INCR', KEYS[1])
for i = 2, #KEYS do redis.call('SET', KEYS[i], now, 'EX', ARGV[1]) end
return now`;

/** What a response cache and a writer need of the tag versions. */
export interface TagVersions {
  /** The hub's clock now; read before an answer is computed. Rejects when Redis does not answer. */
  clock(): Promise<number>;
  /** True when none of `tags` was stamped after `since` (one MGET). Rejects when Redis does not answer. */
  unchangedSince(tags: readonly string[], since: number): Promise<boolean>;
  /** The stamp of each tag (0 when it has none), in order (one MGET). Rejects when Redis does not answer. */
  stamps(tags: readonly string[]): Promise<number[]>;
  /** Stamps `tags` (and moves the clock); returns the new clock. */
  stamp(tags: readonly string[]): Promise<number>;
}

/**
 * Tag versions on a Redis connection, under the queue prefix (hubs sharing a Redis never see each other's).
 *
 * ```ts
 * const versions = tagVersions(redis, config.HUB_QUEUE_PREFIX);
 * await versions.stamp(['VenueBooking:bk-1', 'schedule:411700@2027-05-10']);
 * ```
 */
export function tagVersions(redis: Redis, prefix: string): TagVersions {
  const stamps = async (tags: readonly string[]): Promise<number[]> => {
    if (tags.length === 0) return [];
    const found = await redis.mget(...tags.map((tag) => tagKey(prefix, tag)));
    return found.map((stamp) => (stamp === null ? 0 : Number(stamp)));
  };
  return {
    async clock() {
      return Number((await redis.get(clockKey(prefix))) ?? 0);
    },
    async unchangedSince(tags, since) {
      return (await stamps(tags)).every((stamp) => stamp <= since);
    },
    stamps,
    async stamp(tags) {
      const keys = [clockKey(prefix), ...new Set(tags)].map((key, index) => (index === 0 ? key : tagKey(prefix, key)));
      return Number(await redis.eval(STAMP_SCRIPT, keys.length, ...keys, STAMP_TTL_SECONDS));
    },
  };
}

/** What any write of an object of `type` changes besides the object itself: answers holding a `type` without its id, and lists of `type`. */
export function typeTouched(type: string): string[] {
  return [`type:${type}`, `list:${type}`];
}

/** The tags a write changes when it touches an object of `type`: that object (or some object, key unknown), and lists of its type. */
export function touched(type: string, key?: string | null): string[] {
  return [key ? `${type}:${key}` : `${type}:?`, ...typeTouched(type)];
}

/** In every answer of `schedule`; stamped when some booking changed and which (platforms, days) is unknown. */
export const SCHEDULE_TAG = 'schedule';
/** The most China days a schedule's tags name one by one; a longer window is tagged as a whole. */
const MAX_TAGGED_DAYS = 62;
const DAY_MS = 86_400_000;

/**
 * The China calendar days (YYYY-MM-DD) holding an instant of [from, to); null past MAX_TAGGED_DAYS. A booking overlaps
 * a window exactly when some instant lies in both, and that instant's day is among the days of each: so a write that
 * stamps its booking's days always meets a schedule answer that could have listed it.
 */
export function scheduleDays(from: Date, to: Date): string[] | null {
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime())) return null;
  const days: string[] = [];
  for (let at = chinaMidnight(from).getTime(); at < to.getTime(); at += DAY_MS) {
    if (days.length === MAX_TAGGED_DAYS) return null;
    days.push(chinaDay(new Date(at)));
  }
  return days;
}

/**
 * What a `schedule` answer lists: bookings of `scope`'s platform (its rooms' or its hosted projects'; null: of every
 * platform) over [from, to), by day. A window it cannot name day by day gets ANY_TAG (ended by every write).
 */
export function scheduleTags(scope: string | null, from: Date, to: Date): string[] {
  const days = scheduleDays(from, to);
  if (!days) return [ANY_TAG];
  return [SCHEDULE_TAG, ...days.map((day) => `schedule:${scope ?? '*'}@${day}`)];
}

/** A booking as written: its id, the platforms whose schedules list it (its room's and its project's host), its window. */
export interface WrittenBooking {
  id: string;
  platforms: readonly string[];
  startsAt: Date;
  endsAt: Date;
}

/**
 * The tags bookings' writes changed: each booking, and the schedules that list it on each of its days (of its
 * platforms and the unscoped one). The venues domain notes them where it writes (lib/change-notes.ts).
 */
export function bookingChangeTags(bookings: readonly WrittenBooking[]): string[] {
  const tags = new Set(typeTouched('VenueBooking'));
  for (const booking of bookings) {
    tags.add(`VenueBooking:${booking.id}`);
    const days = scheduleDays(booking.startsAt, booking.endsAt);
    if (!days) tags.add(SCHEDULE_TAG);
    else for (const scope of [...booking.platforms, '*']) for (const day of days) tags.add(`schedule:${scope}@${day}`);
  }
  return [...tags];
}

/** Some booking changed, which one unknown: every booking, and every schedule. */
export function someBookingChanged(): string[] {
  return [...touched('VenueBooking'), SCHEDULE_TAG];
}

/**
 * The tags a job's run may have changed, from its queue, name and payload; a queue not described here ends everything.
 * Always includes ANY_TAG.
 */
export function jobTags(queue: string, _name: string, _data: unknown): string[] {
  // The projects domain notes each project it writes (row, timeline, ledger), and experts each draw it opens: a job's
  // projects are stamped from its notes (lib/change-notes.ts), so none is named here.
  switch (queue) {
    case 'venue-bookings':
      // The saga holds, confirms, releases and expires bookings of an arrangement and moves its project along; the
      // bookings it wrote, with their schedules, are noted where they are written (the job's notes are stamped too).
      return [ANY_TAG, ...typeTouched('VenueBooking'), ...touched('CommitteeSeat')];
    case 'expert-draws':
      // The draws a run opens, fails, completes or unseals are noted by subgraphs/experts/draw-run.ts.
      return [ANY_TAG, ...typeTouched('ExpertDraw'), ...touched('CommitteeSeat'), ...touched('Expert')];
    case 'notifications':
      return [ANY_TAG, ...touched('CommitteeSeat'), ...touched('WebhookDelivery')];
    default:
      return [ALL_TAG];
  }
}
