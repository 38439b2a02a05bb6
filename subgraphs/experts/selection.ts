// The verifiable selection of a draw (DOMAIN.md, "A verifiable draw"): pure functions, no database, so that the hub,
// verifyExpertDraw and an independent verifier compute exactly the same thing. docs/draw-algorithm.md says it in prose.
import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * The exact algorithm, byte by byte.
 *
 * 1. Seed. `seed` is 32 bytes from a CSPRNG; its commitment is `hex(SHA-256(seed))`, published when the draw is requested.
 *    Hex is lowercase.
 * 2. Effective seed. Without a supervisor nonce (null or empty), `seed' = seed`. With one,
 *    `seed' = SHA-256(seed ‖ 0x00 ‖ UTF-8(nonce))` (32 bytes). The nonce is stored and shown with the draw.
 * 3. Group key. A group is one room and one specialty: `groupKey = UTF-8(roomId ‖ "/" ‖ specialty)`.
 * 4. Stream. The n-th 32-bit number of a group (n = 0, 1, 2, …, one stream per group, continued by every later round
 *    of that group) is `u(n) = uint32_be(HMAC-SHA256(key = seed', message = groupKey ‖ 0x00 ‖ uint64_be(n))[0..4])`.
 * 5. Uniform integer below m (m ≥ 1), by rejection sampling: `limit = 2^32 − (2^32 mod m)`; take u(n), n += 1, until
 *    u(n) < limit; the result is `u mod m`. Every draw of the stream counts, rejected or not.
 * 6. Candidates. The eligible experts of a round are listed by expert id in ascending byte order (ids are ASCII), no
 *    duplicates. Their digest is `hex(SHA-256(UTF-8(ids joined by "\n")))` (no trailing newline; an empty list hashes "").
 * 7. Round. Given the candidate list L (length N), the host-region subset H of L, the host quota q (null: no limit),
 *    the number wanted k and the stream position n0 where the round starts:
 *      for i = 0 … N−1, while fewer than k are selected:
 *        j = i + uniform(N − i); swap L[i] and L[j]
 *        if L[i] ∈ H and q is not null and the host-region experts selected so far in this round = q: skip L[i]
 *        else select L[i]
 *    The selection is the selected ids in the order selected; the round ends at the stream position reached.
 *    A round that cannot select k experts is refused before it is recorded (INSUFFICIENT_EXPERTS).
 * 8. Rounds. Round 1 of a group starts at n0 = 0; round r + 1 starts where round r ended. A replacement is a new round
 *    of its group with k = 1; a round whose seats lost a race for an expert (the database's exclusion constraint) is
 *    recorded as LOST_RACE and followed by a new round with a fresh candidate list.
 */
export const SEED_BYTES = 32;

export function newSeed(): Buffer {
  return randomBytes(SEED_BYTES);
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function seedCommitment(seed: Buffer): string {
  return sha256Hex(seed);
}

/** Step 2: the seed the stream is keyed with. */
export function effectiveSeed(seed: Buffer, supervisorNonce: string | null): Buffer {
  if (!supervisorNonce) return seed;
  return createHash('sha256')
    .update(seed)
    .update(Buffer.from([0]))
    .update(Buffer.from(supervisorNonce, 'utf8'))
    .digest();
}

/** Step 3. */
export function groupKeyOf(roomId: string, specialty: string): string {
  return `${roomId}/${specialty}`;
}

/** Step 6. */
export function candidatesDigest(sortedIds: readonly string[], joined = joinIds(sortedIds)): string {
  return sha256Hex(joined);
}

/**
 * The UTF-8 bytes of the ids joined by "\n", written into one buffer: the text step 6 hashes, and the form a round's
 * list is stored from. Array.join built an 85,000-id string several times slower, and that string was then encoded again.
 */
export function joinIds(ids: readonly string[]): Buffer {
  let length = Math.max(0, ids.length - 1);
  for (const id of ids) length += Buffer.byteLength(id, 'utf8');
  const joined = Buffer.allocUnsafe(length);
  let offset = 0;
  for (let i = 0; i < ids.length; i++) {
    if (i > 0) joined[offset++] = 0x0a;
    offset += joined.write(ids[i], offset, 'utf8');
  }
  return joined;
}

/**
 * Ascending byte order of ASCII ids (the order Postgres gives with `collate "C"`), without duplicates. The default
 * sort compares UTF-16 code units, which for ASCII is byte order, and needs no callback per comparison; duplicates
 * are dropped once sorted, where they sit side by side (a Set of 13,000 ids cost more than the sort).
 */
export function sortCandidates(ids: Iterable<string>): string[] {
  const sorted = [...ids].sort();
  return sorted.filter((id, i) => i === 0 || id !== sorted[i - 1]);
}

/** Steps 4 and 5: a group's stream of uniform integers, starting at position `start`. */
export class SelectionStream {
  private readonly prefix: Buffer;
  position: number;

  constructor(
    private readonly key: Buffer,
    groupKey: string,
    start = 0,
  ) {
    this.prefix = Buffer.concat([Buffer.from(groupKey, 'utf8'), Buffer.from([0])]);
    this.position = start;
  }

  /** u(n) of step 4, advancing the position. */
  nextUint32(): number {
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(BigInt(this.position));
    this.position += 1;
    return createHmac('sha256', this.key).update(this.prefix).update(counter).digest().readUInt32BE(0);
  }

  /** A uniform integer in [0, m), step 5. */
  uniform(m: number): number {
    if (!Number.isInteger(m) || m < 1 || m > 2 ** 32) throw new RangeError(`uniform needs 1 <= m <= 2^32, got ${m}`);
    const limit = 2 ** 32 - (2 ** 32 % m);
    for (;;) {
      const u = this.nextUint32();
      if (u < limit) return u % m;
    }
  }
}

export interface RoundInput {
  /** Step 2's seed'. */
  key: Buffer;
  groupKey: string;
  /** Sorted ascending, no duplicates (step 6). */
  candidates: readonly string[];
  /** The candidates from the host region (REMOTE projects), limited by `hostQuota`. */
  hostRegion: ReadonlySet<string>;
  /** How many host-region experts this round may still select; null: no limit (LOCAL projects). */
  hostQuota: number | null;
  wanted: number;
  counterStart: number;
}

export interface RoundResult {
  selected: string[];
  counterEnd: number;
}

/** How many a round can select at most from these candidates: the rest, plus host-region experts up to the quota. */
export function selectableCount(
  candidates: readonly string[],
  hostRegion: ReadonlySet<string>,
  hostQuota: number | null,
): number {
  return selectableOf(candidates.length, candidates.filter((id) => hostRegion.has(id)).length, hostQuota);
}

/** selectableCount from the counts: `total` candidates, `host` of them from the host region. */
export function selectableOf(total: number, host: number, hostQuota: number | null): number {
  return hostQuota === null ? total : total - host + Math.min(host, hostQuota);
}

/**
 * Step 7: one round's selection, deterministic in its inputs.
 *
 * ```ts
 * const { selected, counterEnd } = selectRound({ key, groupKey: 'room-411700-1/LEGAL', candidates, hostRegion: new Set(), hostQuota: null, wanted: 3, counterStart: 0 });
 * ```
 */
export function selectRound(input: RoundInput): RoundResult {
  const list = input.candidates;
  // The swaps of step 7, kept beside the list rather than in a copy of it: a round touches a few positions of a list
  // that can hold 85,000 ids.
  const moved = new Map<number, string>();
  const at = (position: number) => moved.get(position) ?? list[position];
  const stream = new SelectionStream(input.key, input.groupKey, input.counterStart);
  const selected: string[] = [];
  let hostSelected = 0;
  for (let i = 0; i < list.length && selected.length < input.wanted; i++) {
    const j = i + stream.uniform(list.length - i);
    const candidate = at(j);
    moved.set(j, at(i));
    moved.set(i, candidate);
    const fromHost = input.hostRegion.has(candidate);
    if (fromHost && input.hostQuota !== null && hostSelected >= input.hostQuota) continue;
    selected.push(candidate);
    if (fromHost) hostSelected += 1;
  }
  return { selected, counterEnd: stream.position };
}
