// Load with autocannon: one run of one target, every response checked (a GraphQL error under HTTP 200 counts as bad).
import autocannon from 'autocannon';
import { encodeIdentity, IDENTITY_HEADER, SIGNATURE_HEADER, signatureFor, type Identity } from '../lib/identity';

export interface Target {
  name: string;
  url: string;
  body: string;
  /** Headers of every request (the bearer token for a gateway). */
  headers?: Record<string, string>;
  /** Signs the identity over the body, as the gateway does, for a request straight to a subgraph. */
  sign?: { secret: string; identity: Identity };
  /** A constant rate in requests/s over all connections (the soak), instead of as fast as possible. */
  rate?: number;
}

export interface LoadResult {
  target: string;
  connections: number;
  seconds: number;
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  bad: number;
  errors: number;
}

/** Runs one load of `seconds` at `connections` against a target and summarises it. */
export async function load(target: Target, connections: number, seconds: number): Promise<LoadResult> {
  const baseHeaders = { 'content-type': 'application/json', ...(target.headers ?? {}) };
  const encoded = target.sign ? encodeIdentity(target.sign.identity) : '';
  // Each signature carries a nonce a subgraph accepts once, so every request is signed afresh (an HMAC and a SHA-256 of
  // the body: microseconds, next to the request itself).
  const headersNow = (): Record<string, string> => {
    if (!target.sign) return baseHeaders;
    return {
      ...baseHeaders,
      [IDENTITY_HEADER]: encoded,
      [SIGNATURE_HEADER]: signatureFor(target.sign.secret, encoded, target.body),
    };
  };
  let bad = 0;
  const result = await autocannon({
    url: target.url,
    connections,
    duration: seconds,
    // A saturated stack answers slowly rather than not at all: count those answers instead of dropping them at 10 s.
    timeout: 30,
    ...(target.rate ? { overallRate: target.rate } : {}),
    requests: [
      {
        method: 'POST',
        body: target.body,
        setupRequest: (request) => ({ ...request, headers: headersNow() }),
        onResponse: (status, body) => {
          if (status !== 200 || !body.startsWith('{"data":') || body.includes('"errors":')) bad++;
        },
      },
    ],
  });
  return {
    target: target.name,
    connections,
    seconds,
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    bad: bad + result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

/** One request, checked, returning the parsed body: run before loading so a broken query never gets benchmarked. */
export async function once(target: Target): Promise<{ data?: unknown; errors?: unknown[] }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...(target.headers ?? {}) };
  if (target.sign) {
    const encoded = encodeIdentity(target.sign.identity);
    headers[IDENTITY_HEADER] = encoded;
    headers[SIGNATURE_HEADER] = signatureFor(target.sign.secret, encoded, target.body);
  }
  const response = await fetch(target.url, { method: 'POST', headers, body: target.body });
  const parsed = (await response.json()) as { data?: unknown; errors?: unknown[] };
  if (response.status !== 200 || parsed.errors)
    throw new Error(`${target.name} answered ${response.status}: ${JSON.stringify(parsed).slice(0, 500)}`);
  return parsed;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

export interface Comparison {
  a: string;
  b: string;
  rounds: { a: LoadResult; b: LoadResult }[];
  /** Medians over the rounds. */
  summary: { a: Pick<LoadResult, 'rps' | 'p50' | 'p99'>; b: Pick<LoadResult, 'rps' | 'p50' | 'p99'> };
  /** Median requests/s of B over A's. */
  rpsRatio: number;
  /** Median p99 of B over A's. */
  p99Ratio: number;
}

/** Runs A, B, A, B… so drift on a shared machine hits both sides alike; ratios are of the medians (B over A). */
export async function compare(
  a: Target,
  b: Target,
  options: { connections: number; seconds: number; rounds: number; log?: (line: string) => void },
): Promise<Comparison> {
  const rounds: Comparison['rounds'] = [];
  // Requests still queued when a run ends keep the servers busy; the next run must not start behind them, or whichever
  // side goes second pays for the first. One answered request through the side just loaded means its queue is drained.
  const settle = async (target: Target) => {
    await once(target).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 500));
  };
  for (let round = 0; round < options.rounds; round++) {
    const resultA = await load(a, options.connections, options.seconds);
    options.log?.(
      `  ${a.name}: ${resultA.rps.toFixed(0)} req/s p50 ${resultA.p50} ms p99 ${resultA.p99} ms bad ${resultA.bad}`,
    );
    await settle(a);
    const resultB = await load(b, options.connections, options.seconds);
    options.log?.(
      `  ${b.name}: ${resultB.rps.toFixed(0)} req/s p50 ${resultB.p50} ms p99 ${resultB.p99} ms bad ${resultB.bad}`,
    );
    await settle(b);
    rounds.push({ a: resultA, b: resultB });
  }
  const summarise = (side: 'a' | 'b') => ({
    rps: median(rounds.map((round) => round[side].rps)),
    p50: median(rounds.map((round) => round[side].p50)),
    p99: median(rounds.map((round) => round[side].p99)),
  });
  const summary = { a: summarise('a'), b: summarise('b') };
  return {
    a: a.name,
    b: b.name,
    rounds,
    summary,
    rpsRatio: summary.b.rps / summary.a.rps,
    p99Ratio: summary.b.p99 / summary.a.p99,
  };
}
