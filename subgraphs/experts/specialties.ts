// The pool's specialty list (MASTER-DATA.md, "The expert pool"): experts' specialties come from it, and a name not on it
// is refused naming the nearest known ones. Distances count code points, not UTF-16 units, so a Chinese name with a
// character outside the BMP is one character, as a reader counts it.
import type { Kysely } from 'kysely';
import { badInput } from '../../lib/errors';
import type { ExpertsDatabase } from './types';

/** The specialty list, in name order. */
export async function listSpecialties(db: Kysely<ExpertsDatabase>): Promise<string[]> {
  const rows = await db.selectFrom('specialty').select('name').orderBy('name').execute();
  return rows.map((row) => row.name);
}

/** Levenshtein distance between two strings, over code points, case-insensitive. */
export function editDistance(a: string, b: string): number {
  const left = [...a.toLowerCase()];
  const right = [...b.toLowerCase()];
  if (left.length === 0) return right.length;
  if (right.length === 0) return left.length;
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = previous[j - 1] + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j] + 1, current[j - 1] + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length];
}

/**
 * The known names nearest to `name` (at most `count`), nearest first; a known name that contains the given one, or is
 * contained in it, counts as near as one edit.
 *
 * ```ts
 * nearestSpecialties('CIVIL_ENGINERING', ['CIVIL_ENGINEERING', 'HVAC']) // ['CIVIL_ENGINEERING', 'HVAC']
 * ```
 */
export function nearestSpecialties(name: string, known: readonly string[], count = 3): string[] {
  const wanted = name.trim().toLowerCase();
  const scored = known.map((candidate) => {
    const lower = candidate.toLowerCase();
    const distance = editDistance(wanted, lower);
    const contains = wanted.length > 0 && (lower.includes(wanted) || wanted.includes(lower));
    return { candidate, distance: contains ? Math.min(distance, 1) : distance };
  });
  scored.sort((a, b) => a.distance - b.distance || a.candidate.localeCompare(b.candidate));
  return scored.slice(0, count).map((entry) => entry.candidate);
}

/** What to tell a caller who named an unknown specialty. */
export function unknownSpecialtyMessage(name: string, known: readonly string[]): string {
  const nearest = nearestSpecialties(name, known);
  return `unknown specialty "${name}"${nearest.length ? `; the nearest known ones are ${nearest.join(', ')}` : '; the specialty list is empty'} (see the specialties query)`;
}

/** Refuses (BAD_USER_INPUT on `field`) the first name not on the list; the list is read once. */
export async function requireKnownSpecialties(
  db: Kysely<ExpertsDatabase>,
  names: readonly string[],
  field = 'specialties',
): Promise<void> {
  if (names.length === 0) throw badInput(field, 'name at least one specialty from the specialties list');
  const known = await listSpecialties(db);
  const set = new Set(known);
  const unknown = names.find((name) => !set.has(name));
  if (unknown !== undefined) throw badInput(field, unknownSpecialtyMessage(unknown, known));
}
