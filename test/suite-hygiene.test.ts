// Keeps the suite honest about time: a test asserts what happened, never how fast (measurements belong in bench/),
// and waits on a condition (`eventually` in test/support/hub.ts) or an event, never on a pause. Read from the source of
// every file under test/, fault tests included; a pause that is the point of a test is allowed below, with its reason.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** A hit: the file, its 1-based line, and the line's text. */
interface Hit {
  file: string;
  line: number;
  text: string;
}

/** Words that make the value under `expect(...)` a time: elapsed, took, ms, durations, clock reads. */
const TIME_WORDS =
  /Date\.now\(\)|performance\.now\(\)|hrtime|\belapsed\w*|\btook\w*|\bduration\w*|\bms\b|\w+Ms\b|[Tt]ime(?:d|Relay|Taken)?\b|\bseconds?\b/;
/** `expect(<a time>)` followed by an upper bound. */
const BOUND = /expect\(([^;]*?)\)\s*\.\s*(?:not\s*\.\s*)?toBeLessThan(?:OrEqual)?\(/;
/** A pause: a promise resolved by a timer, a step started by a timer, `sleep(`, `delay(`, timers/promises. */
const PAUSES = [
  /\bsetTimeout\(\s*\w+\s*,\s*[\d_]+\s*\)/,
  /new Promise(?:<[^>]*>)?\(\s*\(?\s*\w+\s*\)?\s*=>\s*setTimeout\(/,
  /\bsleep\(\s*\d/,
  /\bawait\s+delay\(/,
  /from ['"](node:)?timers\/promises['"]/,
];

/** Pauses that are what the code is for, by file and a fragment of the line. */
const ALLOWED_PAUSES: { file: string; fragment: string; why: string }[] = [
  {
    file: 'test/support/hub.ts',
    fragment: 'setTimeout(resolve, pollMs)',
    why: "eventually's pause between two looks at its condition: the suite's one way to wait",
  },
  {
    file: 'test/booking-attacks.test.ts',
    fragment: 'setTimeout(resolve, 50)',
    why: 'paces a partner that confirms by hand while the attack runs; nothing waits on it',
  },
  {
    file: 'test/faults/postgres-terminate.test.ts',
    fragment: 'setTimeout(resolve, 50 * (attempt + 1))',
    why: "a client's back-off before it retries a refused call, which is what the test shows",
  },
  // Owned by another helper of issue 16 (sec-authz: authorization-matrix) and rewritten on its branch; once merged this
  // entry no longer matches and the last test below says to delete it.
  {
    file: 'test/authorization-matrix.test.ts',
    fragment: 'setTimeout(resolve, 500)',
    why: 'pending: rewritten on the sec-authz branch',
  },
  // The fault tests below still kill at a random moment or sleep around a Redis restart (issue 16, "faults that may
  // not have landed"): listed so the guard holds for the rest of the suite, and to be deleted when they are rewritten.
  // (relay-crash is rewritten: it holds the relay at its mark with a lock.)
  {
    file: 'test/faults/postgres-terminate.test.ts',
    fragment: 'setTimeout(resolve, 40 + Math.random() * 80)',
    why: "paces the volume test's kill loop; the kill provably mid-mutation is the file's second test",
  },
];
/** Upper bounds on a time that are allowed, by file and fragment: none. */
const ALLOWED_BOUNDS: { file: string; fragment: string; why: string }[] = [];

function sourceFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(entry.name) ? [path] : [];
  });
}

/** Every line of the suite's source, this file excepted (it spells the patterns out). */
function suiteLines(root: string): Hit[] {
  return sourceFiles(join(root, 'test'))
    .map((path) => relative(root, path).split('\\').join('/'))
    .filter((file) => file !== 'test/suite-hygiene.test.ts')
    .flatMap((file) =>
      readFileSync(join(root, file), 'utf8')
        .split('\n')
        .map((text, index) => ({ file, line: index + 1, text })),
    );
}

function durationAssertions(lines: Hit[]): Hit[] {
  return lines.filter(({ text }) => {
    const bound = BOUND.exec(text);
    return bound !== null && TIME_WORDS.test(bound[1]);
  });
}

function pauses(lines: Hit[]): Hit[] {
  return lines.filter(({ text }) => !/^\s*(\/\/|\*)/.test(text) && PAUSES.some((pattern) => pattern.test(text)));
}

const allowedBy = (allowed: { file: string; fragment: string }[]) => (hit: Hit) =>
  allowed.some((entry) => entry.file === hit.file && hit.text.includes(entry.fragment));
const where = (hits: Hit[]) => hits.map(({ file, line, text }) => `${file}:${line}: ${text.trim()}`);

describe('the suite asserts what happened, not how fast, and waits on conditions, not on time', () => {
  const lines = suiteLines(ROOT);

  it('reads the whole suite, fault tests and helpers included', () => {
    const files = new Set(lines.map((hit) => hit.file));
    expect([...files]).toEqual(
      expect.arrayContaining(['test/support/hub.ts', 'test/faults/draw-crash.test.ts', 'test/cancellation.test.ts']),
    );
  });

  it('has no assertion on a duration', () => {
    expect(where(durationAssertions(lines).filter((hit) => !allowedBy(ALLOWED_BOUNDS)(hit)))).toEqual([]);
  });

  it('has no pause used to wait (use eventually, or wait on the event)', () => {
    expect(where(pauses(lines).filter((hit) => !allowedBy(ALLOWED_PAUSES)(hit)))).toEqual([]);
  });

  it('recognises the forms it forbids', () => {
    const sample = (text: string): Hit[] => [{ file: 'test/sample.test.ts', line: 1, text }];
    for (const text of [
      'expect(Date.now() - started).toBeLessThan(10_000);',
      'expect(ms).toBeLessThan(30_000);',
      "expect(await commitAndTimeRelay('first')).toBeLessThan(5_000);",
      'expect(took).toBeLessThan(BOUND_MS);',
      'expect(elapsedMs).toBeLessThanOrEqual(200);',
    ])
      expect({ text, found: durationAssertions(sample(text)).length }).toEqual({ text, found: 1 });
    for (const text of [
      'expect(lost.length).toBeLessThan(40);',
      'expect(retryAfter).toBeLessThanOrEqual(60);',
      'expect(rejected / 2000).toBeLessThan(0.42);',
    ])
      expect({ text, found: durationAssertions(sample(text)).length }).toEqual({ text, found: 0 });
    for (const text of [
      'await new Promise((resolve) => setTimeout(resolve, 300));',
      'await new Promise<void>((r) => setTimeout(r, 1000));',
      'await new Promise(resolve => setTimeout(resolve, 2_500));',
      'await sleep(500);',
      'const timer = setTimeout(release, 1000);',
      "import { setTimeout as wait } from 'node:timers/promises';",
    ])
      expect({ text, found: pauses(sample(text)).length }).toEqual({ text, found: 1 });
  });

  it('allows nothing that no longer occurs (delete an entry once its pause or bound is gone)', () => {
    const stale = [
      ...ALLOWED_PAUSES.filter((entry) => !pauses(lines).some((hit) => allowedBy([entry])(hit))),
      ...ALLOWED_BOUNDS.filter((entry) => !durationAssertions(lines).some((hit) => allowedBy([entry])(hit))),
    ].map((entry) => `${entry.file}: ${entry.fragment}`);
    expect(stale).toEqual([]);
  });
});
