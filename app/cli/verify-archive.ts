// `npm run verify-archive -- path/to/bundle.json`: an auditor's independent check of an exported archive bundle, with no
// database and no hub. Written from docs/archive-format.md and docs/draw-algorithm.md alone: it imports nothing from the
// hub (only node:crypto and node:fs), so that it and the hub's own code check each other.
import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const GENESIS = '0'.repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;

export interface BundleEvent {
  seq: number;
  at: string;
  kind: string;
  actor: string;
  detail: string | null;
  data: JsonValue;
  prevHash: string;
  hash: string;
}

export interface BundleRound {
  round: number;
  /** Null when the bundle was exported for someone the candidate lists are sealed from. */
  candidates: string[] | null;
  /** Null, like the stream positions and the quota, until the evaluation starts (the seal lifts). */
  candidatesDigest: string | null;
  hostRegionCandidates: string[] | null;
  hostQuota: number | null;
  wanted: number;
  counterStart: number | null;
  counterEnd: number | null;
  selected: string[] | null;
  outcome: string;
}

export interface BundleGroup {
  groupKey: string;
  rounds: BundleRound[];
}

export interface BundleSeat {
  id: string;
  groupKey: string;
  round: number;
  status: string;
  /** Present only in a sealed bundle. */
  expertId?: string | null;
}

export interface BundleDraw {
  id: string;
  status: string;
  seedCommitment: string;
  seed: string | null;
  supervisorNonce: string | null;
  groups: BundleGroup[];
  seats: BundleSeat[];
}

export interface Bundle {
  format: string;
  formatVersion: number;
  project: { id: string };
  archive: { entries: number; head: string };
  events: BundleEvent[];
  draws: BundleDraw[];
}

export interface ChainReport {
  intact: boolean;
  entries: number;
  firstBrokenEntry: number | null;
  head: string;
  problem: string | null;
}

export type DrawVerdict = 'MATCHES' | 'DOES_NOT_MATCH' | 'NOT_CHECKED';

export interface DrawReport {
  drawId: string;
  verdict: DrawVerdict;
  rounds: number;
  problems: string[];
  notes: string[];
}

export interface BundleReport {
  projectId: string;
  chain: ChainReport;
  draws: DrawReport[];
  ok: boolean;
}

// ------------------------------------------------------------------------------------------------ the hash chain

/** JSON with object keys sorted (JavaScript's default string order) at every depth and no whitespace. */
function canonical(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

export function verifyHashChain(
  projectId: string,
  events: readonly BundleEvent[],
  stated: { entries: number; head: string },
): ChainReport {
  let previous = GENESIS;
  for (const [index, event] of events.entries()) {
    const body: JsonValue = {
      projectId,
      seq: event.seq,
      at: event.at,
      kind: event.kind,
      actor: event.actor,
      detail: event.detail,
      data: event.data,
    };
    const problem =
      event.seq !== index + 1
        ? `entry ${index + 1} has seq ${event.seq}`
        : event.prevHash !== previous
          ? `entry ${event.seq} does not link to the entry before it`
          : sha256(previous + canonical(body)) !== event.hash
            ? `entry ${event.seq} does not hash to its recorded hash`
            : null;
    if (problem) return { intact: false, entries: events.length, firstBrokenEntry: event.seq, head: previous, problem };
    previous = event.hash;
  }
  if (stated.entries !== events.length || stated.head !== previous) {
    // Entries cut off the end keep a valid chain; the stated head and count are what catch it.
    return {
      intact: false,
      entries: events.length,
      firstBrokenEntry: events.length + 1,
      head: previous,
      problem: `the bundle states ${stated.entries} entries ending in ${stated.head}; the events give ${events.length} ending in ${previous}`,
    };
  }
  return { intact: true, entries: events.length, firstBrokenEntry: null, head: previous, problem: null };
}

// ------------------------------------------------------------------------------------------------ the draws

/** docs/draw-algorithm.md, steps 4 and 5: the n-th number of a group's stream, and uniform integers by rejection. */
class GroupStream {
  constructor(
    private readonly key: Buffer,
    private readonly groupKey: string,
    public n: number,
  ) {}

  private next(): number {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(this.n));
    this.n += 1;
    const mac = createHmac('sha256', this.key)
      .update(Buffer.concat([Buffer.from(this.groupKey, 'utf8'), Buffer.from([0]), counter]))
      .digest();
    return mac.readUInt32BE(0);
  }

  below(m: number): number {
    const space = 2 ** 32;
    const limit = space - (space % m);
    let u = this.next();
    while (u >= limit) u = this.next();
    return u % m;
  }
}

/** docs/draw-algorithm.md, step 7: the partial Fisher-Yates shuffle with the host-region quota. */
function rerunRound(
  key: Buffer,
  groupKey: string,
  round: BundleRound & { counterStart: number },
  candidates: string[],
  hostRegion: Set<string>,
): { selected: string[]; counterEnd: number } {
  const list = candidates.slice();
  const stream = new GroupStream(key, groupKey, round.counterStart);
  const selected: string[] = [];
  let fromHost = 0;
  let i = 0;
  while (i < list.length && selected.length < round.wanted) {
    const j = i + stream.below(list.length - i);
    const swap = list[i];
    list[i] = list[j];
    list[j] = swap;
    const pick = list[i];
    const isHost = hostRegion.has(pick);
    if (!(isHost && round.hostQuota !== null && fromHost >= round.hostQuota)) {
      selected.push(pick);
      if (isHost) fromHost += 1;
    }
    i += 1;
  }
  return { selected, counterEnd: stream.n };
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value, index) => value === b[index]);

export function verifyDraw(draw: BundleDraw): DrawReport {
  const problems: string[] = [];
  const notes: string[] = [];
  let rounds = 0;
  if (!draw.seed) {
    return {
      drawId: draw.id,
      verdict: 'NOT_CHECKED',
      rounds,
      problems,
      notes: [
        'the seed is not revealed yet (it is revealed when the evaluation starts; a failed draw is never revealed)',
      ],
    };
  }
  if (!/^[0-9a-f]{64}$/.test(draw.seed))
    return {
      drawId: draw.id,
      verdict: 'DOES_NOT_MATCH',
      rounds,
      problems: ['the revealed seed is not 32 bytes of lowercase hex'],
      notes,
    };
  const seed = Buffer.from(draw.seed, 'hex');
  if (sha256(seed) !== draw.seedCommitment) problems.push('sha256(seed) is not the published commitment');
  // Step 2: a supervisor's nonce is mixed in as SHA-256(seed ‖ 0x00 ‖ nonce).
  const key = draw.supervisorNonce
    ? createHash('sha256')
        .update(Buffer.concat([seed, Buffer.from([0]), Buffer.from(draw.supervisorNonce, 'utf8')]))
        .digest()
    : seed;

  let sealed = false;
  const seatedBy = new Map<string, string[]>();
  for (const group of draw.groups) {
    let position = 0;
    const ordered = [...group.rounds].sort((a, b) => a.round - b.round);
    for (const [index, round] of ordered.entries()) {
      const where = `group ${group.groupKey} round ${round.round}`;
      if (round.round !== index + 1) problems.push(`${where}: rounds are not numbered 1, 2, 3…`);
      // A revealed seed comes with the digests and stream positions (docs/archive-format.md): a round without them is malformed.
      if (round.counterStart === null || round.counterEnd === null || round.candidatesDigest === null) {
        problems.push(`${where}: the seed is revealed but the round's digest or stream positions are missing`);
        continue;
      }
      if (round.counterStart !== position)
        problems.push(
          `${where}: starts at stream position ${round.counterStart}, the previous round ended at ${position}`,
        );
      position = round.counterEnd;
      rounds += 1;
      if (!round.candidates || !round.hostRegionCandidates || !round.selected) {
        sealed = true;
        continue;
      }
      const sorted = [...new Set(round.candidates)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      if (!sameList(sorted, round.candidates))
        problems.push(`${where}: the candidate list is not sorted by id without duplicates`);
      if (sha256(Buffer.from(round.candidates.join('\n'), 'utf8')) !== round.candidatesDigest)
        problems.push(`${where}: the candidate list does not hash to its recorded digest`);
      const listed = new Set(round.candidates);
      if (round.hostRegionCandidates.some((id) => !listed.has(id)))
        problems.push(`${where}: a host-region expert is not among the candidates`);
      const rerun = rerunRound(
        key,
        group.groupKey,
        { ...round, counterStart: round.counterStart },
        round.candidates,
        new Set(round.hostRegionCandidates),
      );
      if (!sameList(rerun.selected, round.selected))
        problems.push(
          `${where}: recomputed ${rerun.selected.join(', ') || 'nobody'}, recorded ${round.selected.join(', ') || 'nobody'}`,
        );
      if (rerun.counterEnd !== round.counterEnd)
        problems.push(`${where}: the stream ends at ${rerun.counterEnd}, recorded ${round.counterEnd}`);
      if (round.outcome === 'SEATED') seatedBy.set(`${group.groupKey}#${round.round}`, round.selected);
    }
  }

  // The committee: the seats of each seated round hold exactly the experts that round selected.
  const seatsWithExperts = draw.seats.filter((seat) => seat.expertId !== undefined);
  if (sealed || seatsWithExperts.length < draw.seats.length) {
    notes.push(
      'this bundle was exported without the sealed parts: candidate lists or seat holders are withheld, so the committee was not compared',
    );
  } else {
    const byRound = new Map<string, string[]>();
    for (const seat of draw.seats) {
      const key = `${seat.groupKey}#${seat.round}`;
      byRound.set(key, [...(byRound.get(key) ?? []), seat.expertId ?? '(empty)']);
    }
    for (const [roundKey, selected] of seatedBy) {
      const held = (byRound.get(roundKey) ?? []).slice().sort();
      if (!sameList(held, selected.slice().sort()))
        problems.push(
          `${roundKey.replace('#', ' round ')}: the seats hold ${held.join(', ') || 'nobody'}, the round selected ${selected.join(', ')}`,
        );
    }
    for (const roundKey of byRound.keys())
      if (!seatedBy.has(roundKey))
        problems.push(`seats of ${roundKey.replace('#', ' round ')} come from no recorded seated round`);
  }
  const verdict: DrawVerdict =
    problems.length > 0 ? 'DOES_NOT_MATCH' : sealed || notes.length > 0 ? 'NOT_CHECKED' : 'MATCHES';
  return { drawId: draw.id, verdict, rounds, problems, notes };
}

// ------------------------------------------------------------------------------------------------ the bundle

/** Checks the shape a verifier relies on, saying what is missing. */
export function parseBundle(text: string): Bundle {
  const value = JSON.parse(text) as Partial<Bundle> | null;
  if (!value || typeof value !== 'object') throw new Error('the bundle is not a JSON object');
  if (value.format !== 'remote-evaluation-archive')
    throw new Error(`format is ${String(value.format)}; expected "remote-evaluation-archive"`);
  if (value.formatVersion !== 1)
    throw new Error(`formatVersion ${String(value.formatVersion)} is not understood by this verifier (1)`);
  if (!value.project || typeof value.project.id !== 'string') throw new Error('project.id is missing');
  if (!value.archive || typeof value.archive.entries !== 'number' || !HEX64.test(String(value.archive.head)))
    throw new Error('archive.entries and archive.head are missing');
  if (!Array.isArray(value.events)) throw new Error('events is missing');
  if (!Array.isArray(value.draws)) throw new Error('draws is missing');
  return value as Bundle;
}

export function verifyBundle(bundle: Bundle): BundleReport {
  const chain = verifyHashChain(bundle.project.id, bundle.events, bundle.archive);
  const draws = bundle.draws.map(verifyDraw);
  return {
    projectId: bundle.project.id,
    chain,
    draws,
    ok: chain.intact && draws.every((draw) => draw.verdict !== 'DOES_NOT_MATCH'),
  };
}

export function formatReport(report: BundleReport): string {
  const lines = [
    report.chain.intact
      ? `archive ${report.projectId}: ${report.chain.entries} entries, hash chain intact, head ${report.chain.head}`
      : `archive ${report.projectId}: hash chain BROKEN at entry ${report.chain.firstBrokenEntry}: ${report.chain.problem}`,
  ];
  if (report.draws.length === 0) lines.push('no expert draws in this bundle');
  for (const draw of report.draws) {
    const verdict =
      draw.verdict === 'MATCHES'
        ? 'committee MATCHES'
        : draw.verdict === 'DOES_NOT_MATCH'
          ? 'committee DOES NOT MATCH'
          : 'committee not checked';
    lines.push(`draw ${draw.drawId}: ${draw.rounds} round(s) recomputed; ${verdict}`);
    for (const problem of draw.problems) lines.push(`  - ${problem}`);
    for (const note of draw.notes) lines.push(`  note: ${note}`);
  }
  lines.push(report.ok ? 'VERIFIED' : 'NOT VERIFIED');
  return `${lines.join('\n')}\n`;
}

function main(): void {
  const path = process.argv[2];
  if (!path || process.argv.length > 3) {
    process.stderr.write('usage: npm run verify-archive -- path/to/bundle.json\n');
    process.exit(2);
  }
  let bundle: Bundle;
  try {
    bundle = parseBundle(readFileSync(path, 'utf8'));
  } catch (error) {
    process.stderr.write(
      `cannot read ${path} as an archive bundle: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(2);
  }
  const report = verifyBundle(bundle);
  process.stdout.write(formatReport(report));
  process.exit(report.ok ? 0 : 1);
}

if (require.main === module) main();
