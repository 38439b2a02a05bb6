// The verifiable selection (subgraphs/experts/selection.ts) on its own: determinism, the byte layout a verifier
// relies on, rejection sampling, the host quota, and fairness over many draws (chi-square).
import { createHash, createHmac } from 'node:crypto';
import {
  candidatesDigest,
  effectiveSeed,
  groupKeyOf,
  selectableCount,
  selectRound,
  SelectionStream,
  sortCandidates,
} from '../subgraphs/experts/selection';

const seed = Buffer.from('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff', 'hex');
const ids = (n: number) => Array.from({ length: n }, (_, i) => `exp-${String(i + 1).padStart(5, '0')}`);

describe('the documented byte layout', () => {
  it("derives u(n) as the first 4 bytes, big-endian, of HMAC-SHA256(seed', groupKey ‖ 0x00 ‖ uint64_be(n))", () => {
    const key = effectiveSeed(seed, 'nonce-7');
    expect(key).toEqual(
      createHash('sha256')
        .update(Buffer.concat([seed, Buffer.from([0]), Buffer.from('nonce-7', 'utf8')]))
        .digest(),
    );
    expect(effectiveSeed(seed, null)).toEqual(seed);
    const groupKey = groupKeyOf('room-411700-1', 'LEGAL');
    expect(groupKey).toBe('room-411700-1/LEGAL');
    const stream = new SelectionStream(key, groupKey, 5);
    const counter = Buffer.alloc(8);
    counter.writeBigUInt64BE(5n);
    const expected = createHmac('sha256', key)
      .update(Buffer.concat([Buffer.from(groupKey), Buffer.from([0]), counter]))
      .digest()
      .readUInt32BE(0);
    expect(stream.nextUint32()).toBe(expected);
    expect(stream.position).toBe(6);
  });

  it('reproduces the test vectors of docs/draw-algorithm.md', () => {
    const candidates = ids(30);
    expect(candidatesDigest(candidates)).toBe('8917c815587085638bb5918ddd2855f7e07b7065ec3a2b13e7b7603399c60c4d');
    expect(
      selectRound({
        key: seed,
        groupKey: 'g',
        candidates,
        hostRegion: new Set(),
        hostQuota: null,
        wanted: 3,
        counterStart: 0,
      }),
    ).toEqual({
      selected: ['exp-00017', 'exp-00004', 'exp-00006'],
      counterEnd: 3,
    });
    const key = effectiveSeed(seed, 'nonce-7');
    expect(
      selectRound({
        key,
        groupKey: 'room-411700-1/LEGAL',
        candidates,
        hostRegion: new Set(candidates.slice(0, 20)),
        hostQuota: 1,
        wanted: 4,
        counterStart: 0,
      }),
    ).toEqual({
      selected: ['exp-00024', 'exp-00023', 'exp-00013', 'exp-00022'],
      counterEnd: 4,
    });
  });

  it('digests the sorted ids joined by newlines', () => {
    expect(candidatesDigest(['exp-1', 'exp-2'])).toBe(createHash('sha256').update('exp-1\nexp-2').digest('hex'));
    expect(candidatesDigest([])).toBe(createHash('sha256').update('').digest('hex'));
    expect(sortCandidates(['exp-10', 'exp-9', 'exp-10', 'EXP-1'])).toEqual(['EXP-1', 'exp-10', 'exp-9']);
  });

  it('is deterministic, and the next round continues the stream', () => {
    const input = {
      key: seed,
      groupKey: 'g',
      candidates: ids(30),
      hostRegion: new Set<string>(),
      hostQuota: null,
      wanted: 3,
      counterStart: 0,
    };
    const first = selectRound(input);
    expect(selectRound(input)).toEqual(first);
    expect(first.selected).toHaveLength(3);
    expect(new Set(first.selected).size).toBe(3);
    const next = selectRound({ ...input, wanted: 1, counterStart: first.counterEnd });
    expect(next.counterEnd).toBeGreaterThan(first.counterEnd);
    expect(selectRound({ ...input, key: effectiveSeed(seed, 'other') }).selected).not.toEqual(first.selected);
  });

  it('rejects draws at or above the largest multiple of m (no modulo bias) and consumes them', () => {
    // m = 3 * 2^30: the limit is 3 * 2^30, so a quarter of all 32-bit values are rejected.
    const stream = new SelectionStream(seed, 'rejection');
    let rejected = 0;
    for (let i = 0; i < 2000; i++) {
      const before = stream.position;
      const value = stream.uniform(3 * 2 ** 30);
      expect(value).toBeLessThan(3 * 2 ** 30);
      rejected += stream.position - before - 1;
    }
    expect(rejected / 2000).toBeGreaterThan(0.25);
    expect(rejected / 2000).toBeLessThan(0.42);
  });

  it('skips host-region candidates beyond the quota, and counts what can be selected', () => {
    const candidates = ids(10);
    const hostRegion = new Set(candidates.slice(0, 8));
    expect(selectableCount(candidates, hostRegion, 1)).toBe(3);
    for (let s = 0; s < 50; s++) {
      const { selected } = selectRound({
        key: Buffer.from([s]),
        groupKey: 'q',
        candidates,
        hostRegion,
        hostQuota: 1,
        wanted: 3,
        counterStart: 0,
      });
      expect(selected).toHaveLength(3);
      expect(selected.filter((id) => hostRegion.has(id))).toHaveLength(1);
    }
  });
});

describe('fairness', () => {
  it('selects each of 30 candidates equally often over 20,000 draws of 3 (chi-square), with no position bias', () => {
    const candidates = ids(30);
    const counts = new Map(candidates.map((id) => [id, 0]));
    const firstPick = new Map(candidates.map((id) => [id, 0]));
    const draws = 20_000;
    for (let d = 0; d < draws; d++) {
      const key = createHash('sha256').update(`fairness-${d}`).digest();
      const { selected } = selectRound({
        key,
        groupKey: 'room/SPEC',
        candidates,
        hostRegion: new Set(),
        hostQuota: null,
        wanted: 3,
        counterStart: 0,
      });
      for (const id of selected) counts.set(id, counts.get(id)! + 1);
      firstPick.set(selected[0], firstPick.get(selected[0])! + 1);
    }
    const chiSquare = (observed: number[], expected: number) =>
      observed.reduce((sum, o) => sum + (o - expected) ** 2 / expected, 0);
    // 29 degrees of freedom: the 0.999 quantile is 58.3; a fair selection exceeds it once in a thousand runs.
    const selection = chiSquare([...counts.values()], (draws * 3) / 30);
    const position = chiSquare([...firstPick.values()], draws / 30);
    expect(selection).toBeLessThan(58.3);
    expect(position).toBeLessThan(58.3);
  });
});
