// Summarises a V8 .cpuprofile (node --cpu-prof) by phase of a GraphQL request: self time grouped into buckets by the
// file each function lives in, over the last `windowMs` of the profile (the measured requests, not the start-up).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** The phase a function belongs to, judged by its file (first match wins). */
const BUCKETS: [string, (url: string, fn: string) => boolean][] = [
  ['garbage collection', (_url, fn) => fn === '(garbage collector)'],
  ['parse (graphql/language)', (url) => url.includes('graphql/language')],
  ['validate (graphql/validation)', (url) => url.includes('graphql/validation')],
  [
    'query planning (@apollo/query-planner, federation-internals)',
    (url) => /query-planner|federation-internals/.test(url),
  ],
  ['gateway execution and merging (@apollo/gateway)', (url) => url.includes('@apollo/gateway')],
  ['graphql execution (graphql/execution)', (url) => url.includes('graphql/execution')],
  ['graphql types and utilities', (url) => url.includes('/graphql/')],
  ['apollo server', (url) => url.includes('@apollo/server') || url.includes('@apollo/utils')],
  ['apollo subgraph', (url) => url.includes('@apollo/subgraph')],
  ['authorization wrapper (lib/authorization)', (url) => url.includes('/lib/authorization')],
  ['identity, signatures (lib/identity, crypto)', (url) => url.includes('/lib/identity') || url.includes('crypto')],
  ['response cache', (url) => url.includes('response-cache') || url.includes('cache-tags')],
  ['limits, rate limit, tokens', (url) => /gateway\/(limits|rate-limit|tokens|input-text)/.test(url)],
  ['kysely', (url) => url.includes('/kysely/')],
  ['pg', (url) => /\/pg(-protocol|-pool|-types)?\//.test(url)],
  ['ioredis', (url) => url.includes('ioredis')],
  ['dataloader', (url) => url.includes('dataloader')],
  ['jose, zod', (url) => url.includes('/jose/') || url.includes('/zod/')],
  ['prom-client, metrics', (url) => url.includes('prom-client') || url.includes('/lib/metrics')],
  ['async hooks, AsyncLocalStorage', (url) => url.includes('async_hooks') || url.includes('async_local_storage')],
  ['node http, net, streams', (url) => /^node:(internal\/)?(http|_http|net|stream|streams|dns|url|buffer)/.test(url)],
  ['node other', (url) => url.startsWith('node:')],
  ['hub code (dist)', (url) => url.includes('/dist/')],
  ['other packages', (url) => url.includes('node_modules')],
  ['native, JSON, builtins', () => true],
];

export interface ProfileSummary {
  busyMs: number;
  windowMs: number;
  buckets: { name: string; ms: number; share: number }[];
  top: { name: string; ms: number }[];
}

export function profileBuckets(file: string, windowMs?: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const from = windowMs === undefined ? profile.startTime : profile.endTime - windowMs * 1000;
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  let time = profile.startTime;
  let busy = 0;
  for (let index = 0; index < profile.samples.length; index++) {
    time += profile.timeDeltas[index];
    // A sample stands for the time until the next one.
    const delta = profile.timeDeltas[index + 1] ?? 0;
    if (time < from) continue;
    const node = byId.get(profile.samples[index]);
    if (!node) continue;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') continue;
    busy += delta;
    const bucket = BUCKETS.find(([, test]) => test(url, functionName))![0];
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + delta);
    const key = `${functionName || '(anonymous)'} ${url.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/')}`;
    functions.set(key, (functions.get(key) ?? 0) + delta);
  }
  return {
    busyMs: busy / 1000,
    windowMs: (profile.endTime - from) / 1000,
    buckets: [...buckets.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([name, us]) => ({ name, ms: us / 1000, share: busy ? us / busy : 0 })),
    top: [...functions.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, us]) => ({ name, ms: us / 1000 })),
  };
}

/** A markdown table of the buckets and the heaviest functions. */
export function summariseProfile(file: string, windowMs?: number): string {
  const summary = profileBuckets(file, windowMs);
  return [
    `busy ${summary.busyMs.toFixed(0)} ms of ${summary.windowMs.toFixed(0)} ms`,
    '| phase | ms | share |',
    '| --- | ---: | ---: |',
    ...summary.buckets.map(
      (bucket) => `| ${bucket.name} | ${bucket.ms.toFixed(0)} | ${(bucket.share * 100).toFixed(1)}% |`,
    ),
    '',
    '| heaviest functions (self) | ms |',
    '| --- | ---: |',
    ...summary.top.map((entry) => `| ${entry.name.replace(/\|/g, '/')} | ${entry.ms.toFixed(0)} |`),
  ].join('\n');
}

if (require.main === module) {
  const [file, window] = process.argv.slice(2);
  process.stdout.write(`${summariseProfile(file, window ? Number(window) : undefined)}\n`);
}
