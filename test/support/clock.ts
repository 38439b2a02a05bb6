// A clock a test moves forward: the system's time plus whatever the test has advanced it by. It keeps running, so
// rows stamped by Postgres and by the hub stay in order; advancing it is how a test lets a deadline pass at once.
import type { Clock } from '../../lib/clock';

export class TestClock implements Clock {
  private offsetMs = 0;

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  /** Moves the clock `ms` forward, for good. */
  advance(ms: number): void {
    if (ms < 0) throw new Error('a test clock only moves forward');
    this.offsetMs += ms;
  }
}
