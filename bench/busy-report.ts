// The busy-day scenario's settings, the shapes of its measurements and its report (bench/busy.ts runs it).
import { median } from './load';
import type { ScenarioFigure, ScenarioReport } from './scenarios';

export const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
export const SECONDS = num('BENCH_BUSY_SECONDS', 60);
export const ROUNDS = num('BENCH_BUSY_ROUNDS', 2);
export const WRITES_PER_SECOND = num('BENCH_BUSY_WRITES', 5);

export interface Poller {
  kind: 'board' | 'partner';
  body: string;
  token: string;
}
export interface Side {
  name: string;
  readUrl: string;
  /** Writes need identities the stock gateway cannot carry: its side writes through the uncached hub gateway. */
  writeUrl: string;
  metricsUrl?: string;
  /** The stock gateway signs one fixed identity and reads no token. */
  tokens: boolean;
}
export interface Latencies {
  times: number[];
  bad: number;
  firstBad?: string;
}
export interface BusyClass {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  bad: number;
  firstBad?: string;
}
export interface BusyRun {
  side: string;
  round: number;
  board: BusyClass;
  partner: BusyClass;
  write: BusyClass & { byKind: Record<string, number> };
  cache?: { hit: number; total: number; hitRate: number; outcomes: Record<string, number> };
}

export const percentile = (values: number[], p: number) => {
  if (!values.length) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
};
export const summarise = (latencies: Latencies, seconds: number): BusyClass => ({
  requests: latencies.times.length,
  rps: latencies.times.length / seconds,
  p50: percentile(latencies.times, 50),
  p99: percentile(latencies.times, 99),
  bad: latencies.bad,
  ...(latencies.firstBad ? { firstBad: latencies.firstBad } : {}),
});

export function reportOf(runs: BusyRun[], sides: Side[], pollers: Poller[]): ScenarioReport {
  const med = (side: Side, pick: (run: BusyRun) => number) =>
    median(runs.filter((run) => run.side === side.name).map(pick));
  const [hub, stock, off] = sides;
  const rows = ['board', 'partner', 'write'] as const;
  const markdown = [
    `Medians of ${ROUNDS} alternating rounds of ${SECONDS} s per side. Readers: ${pollers.filter((p) => p.kind === 'board').length} board connections (20 identities), ${pollers.filter((p) => p.kind === 'partner').length} partner systems; writes ${WRITES_PER_SECOND}/s.`,
    '',
    '| side | class | req/s | p50 ms | p99 ms | bad | cache hit rate |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const side of sides) {
    for (const row of rows) {
      const outcomes = runs.find((run) => run.side === side.name)?.cache?.outcomes ?? {};
      const hits =
        side.metricsUrl && row !== 'write'
          ? `${(med(side, (run) => run.cache?.hitRate ?? 0) * 100).toFixed(1)}% of all reads (round 1: ${Object.entries(
              outcomes,
            )
              .map(([key, value]) => `${key} ${value}`)
              .join(', ')})`
          : '';
      const bad = runs.filter((run) => run.side === side.name).reduce((sum, run) => sum + run[row].bad, 0);
      markdown.push(
        `| ${side.name} | ${row} | ${med(side, (run) => run[row].rps).toFixed(1)} | ${med(side, (run) => run[row].p50).toFixed(0)} | ${med(side, (run) => run[row].p99).toFixed(0)} | ${bad} | ${hits} |`,
      );
    }
  }
  markdown.push('');
  const badWrites = runs.map((run) => run.write.firstBad).filter(Boolean);
  if (badWrites.length) markdown.push(`First refused write: ${badWrites[0]}`, '');
  const figures: ScenarioFigure[] = [
    {
      name: 'board, hub (cache on) / stock req/s',
      value: med(hub, (run) => run.board.rps) / med(stock, (run) => run.board.rps),
      unit: '×',
      target: { value: 5, lowerIsBetter: false },
    },
    {
      name: 'board, hub (cache on) / stock p99',
      value: med(hub, (run) => run.board.p99) / med(stock, (run) => run.board.p99),
      unit: '×',
      target: { value: 0.2, lowerIsBetter: true, inclusive: true },
    },
    {
      name: 'write p99, cache on / cache off',
      value: med(hub, (run) => run.write.p99) / med(off, (run) => run.write.p99),
      unit: '×',
      target: { value: 1.1, lowerIsBetter: true, inclusive: true },
    },
    {
      name: 'partner schedule, hub (cache on) / stock req/s',
      value: med(hub, (run) => run.partner.rps) / med(stock, (run) => run.partner.rps),
      unit: '×',
    },
    {
      name: 'board, hub (cache off) / stock req/s',
      value: med(off, (run) => run.board.rps) / med(stock, (run) => run.board.rps),
      unit: '×',
      // Issue 19's uncached board: the hub's misses must cost the subgraphs less than the stock gateway's.
      target: { value: 1.5, lowerIsBetter: false },
    },
    {
      name: 'hub cache hit rate (all reads, cache on)',
      value: med(hub, (run) => run.cache?.hitRate ?? 0) * 100,
      unit: '%',
    },
    {
      name: 'bad polls (all sides, all rounds)',
      value: runs.reduce((sum, run) => sum + run.board.bad + run.partner.bad, 0),
      unit: 'responses',
    },
    {
      name: 'refused or failed writes (all sides, all rounds)',
      value: runs.reduce((sum, run) => sum + run.write.bad, 0),
      unit: 'writes',
    },
  ];
  return {
    name: 'Busy day',
    status: 'measured',
    note: `Writes driven through the gateway under test (the stock side writes through the hub gateway without its cache, since the stock gateway carries one fixed identity): respondToInvitation (accept), confirmBooking (a partner's operator, HELD bookings made by arrangeVenues before the run), submitProject (host operator), fileProject (a provincial supervisor, projects submitted earlier in the run), checkIn (seats of open windows), putRoomBlock (a partner system blocks a seat of its own room for an hour at noon UTC, months ahead). Invitation and check-in seats are inserted before each run.`,
    figures,
    markdown,
    detail: { runs },
  };
}
