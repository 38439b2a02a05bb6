// Time windows given by clients: checked once, the same way everywhere.
import { badInput } from './errors';

export interface TimeWindow {
  from: Date;
  to: Date;
}

/** Checks that `to` is after `from` and the range is at most `maxDays` long. */
export function timeWindow(from: Date, to: Date, maxDays?: number): TimeWindow {
  if (to.getTime() <= from.getTime()) throw badInput('to', 'must be after from');
  if (maxDays !== undefined && to.getTime() - from.getTime() > maxDays * 86_400_000) {
    throw badInput('to', `the range may span at most ${maxDays} days; ask for a shorter range`);
  }
  return { from, to };
}
