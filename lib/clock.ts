// The small interfaces services take for time and identifiers, so tests can fix them without module mocks.
import { randomUUID } from 'node:crypto';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export interface IdGenerator {
  /** A new opaque id with a readable prefix, e.g. "prj_…". */
  next(prefix: string): string;
}
export const randomIds: IdGenerator = { next: (prefix) => `${prefix}_${randomUUID().replace(/-/g, '')}` };
