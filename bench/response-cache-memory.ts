// What the gateway's response cache really holds in memory: floods the cache plugin (gateway/response-cache.ts) with
// answers of distinct callers, as graphql-js builds them, and compares the live heap it keeps after a full GC with its
// own accounting. Run with the GC exposed:
//   node --expose-gc -r ts-node/register/transpile-only bench/response-cache-memory.ts [--json] [--mb 16] [--callers 20000] [--shape schedule]
// test/response-cache-memory.test.ts runs it as a child process and checks the heap stays within the budget.
import { parseArgs } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { listenForChanges } from '../lib/change-feed';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import type { Identity } from '../lib/identity';
import { responseCachePlugin, type ResponseCacheStats } from '../gateway/response-cache';

export const SHAPES = ['platform', 'schedule', 'projects'] as const;
export type Shape = (typeof SHAPES)[number];

const SDL = `
  type Query { platform: Platform! schedule: [Booking!]! projects: [Project!]! }
  type Platform { id: ID! name: String! level: String! }
  type Booking { id: ID! status: String! seats: Int! startsAt: String! room: Room! project: Project! }
  type Room { id: ID! name: String! venue: Venue! }
  type Venue { id: ID! name: String! platform: Platform! }
  type Project { id: ID! code: String! name: String! status: String! budget: Float! }
`;

const QUERIES: Record<Shape, string> = {
  platform: '{ platform { id name level } }',
  schedule:
    '{ schedule { id status seats startsAt room { id name venue { id name platform { id name } } } project { id code name status } } }',
  projects: '{ projects { id code name status budget } }',
};

/** The subgraph answer a resolver starts from, as JSON text: parsed afresh per request, as the gateway parses its fetches. */
function sourceText(shape: Shape, caller: number): string {
  const platform = {
    id: `4117${String(caller % 100).padStart(2, '0')}`,
    name: `驻马店市公共资源交易中心${caller}`,
    level: 'CITY',
  };
  const project = (index: number) => ({
    id: `p-${caller}-${index}`,
    code: `ZMD-2027-${caller}-${index}`,
    name: `驻马店市第${index}标段道路改造工程施工`,
    status: 'FILED',
    budget: 1_250_000.5 + index,
  });
  if (shape === 'platform') return JSON.stringify({ platform });
  if (shape === 'projects')
    return JSON.stringify({ projects: Array.from({ length: 50 }, (_, index) => project(index)) });
  return JSON.stringify({
    schedule: Array.from({ length: 20 }, (_, index) => ({
      id: `bk-${caller}-${index}`,
      status: 'CONFIRMED',
      seats: 3,
      startsAt: '2027-04-05T01:00:00.000Z',
      room: {
        id: `room-${caller}-${index}`,
        name: `第${index}评标室`,
        venue: { id: `v-${caller}`, name: '驻马店市公共资源交易中心评标基地', platform },
      },
      project: project(index),
    })),
  });
}

export interface MemoryMeasure {
  shape: Shape;
  callers: number;
  /** Live heap the flood left behind after a full GC, in bytes. */
  heapGrowth: number;
  stats: ResponseCacheStats;
  /** Live heap per accounted byte: at most 1 when the accounting is conservative. */
  heapPerAccountedByte: number;
  /** Live heap per character of the stored answers' JSON (from the entries kept). */
  heapPerJsonChar: number;
  jsonChars: number;
}

function collect(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run node with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export async function measure(shape: Shape, maxBytes: number, callers: number): Promise<MemoryMeasure> {
  const config = {
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    prefix: `{cache-memory-${process.pid}}`,
  };
  const feed = listenForChanges(config.redisUrl, config.prefix, createLogger('bench', 'silent'));
  if (!(await feed.whenListening(5000))) throw new Error(`no Redis at ${config.redisUrl}`);
  const cache = responseCachePlugin<{ identity: Identity }>(maxBytes, feed, createMetrics('bench-cache'));
  const apollo = new ApolloServer<{ identity: Identity }>({
    typeDefs: SDL,
    resolvers: {
      Query: Object.fromEntries(
        SHAPES.map((field) => [
          field,
          (_root: unknown, _args: unknown, ctx: { source: () => Record<string, unknown> }) => ctx.source()[field],
        ]),
      ),
    },
    // Every answer cacheable, as the subgraphs' hints make a schedule or a platform.
    plugins: [ApolloServerPluginCacheControl({ defaultMaxAge: 60, calculateHttpHeaders: false }), cache.plugin],
  });
  await apollo.start();
  const query = QUERIES[shape];
  // Warm up: the first requests build Apollo's document caches and compile V8's code, which is not the cache's memory.
  for (let caller = 0; caller < 20; caller++) await run(apollo, shape, query, -1 - caller);
  const before = collect();
  let jsonChars = 0;
  for (let caller = 0; caller < callers; caller++) jsonChars += await run(apollo, shape, query, caller);
  const after = collect();
  const stats = cache.stats();
  // Characters of the entries still held (the LRU evicted the rest): the flood's answers are of one size.
  const heldChars = (jsonChars / callers) * stats.entries;
  await apollo.stop();
  await feed.close();
  return {
    shape,
    callers,
    heapGrowth: after - before,
    stats,
    heapPerAccountedByte: (after - before) / Math.max(1, stats.bytes),
    heapPerJsonChar: (after - before) / Math.max(1, heldChars),
    jsonChars: heldChars,
  };
}

/** One query of one distinct caller; returns the length of its answer's JSON. */
async function run(
  apollo: ApolloServer<{ identity: Identity }>,
  shape: Shape,
  query: string,
  caller: number,
): Promise<number> {
  const identity: Identity = { sub: `caller-${caller}`, role: 'PLATFORM_OPERATOR', platform: '411700' };
  const text = sourceText(shape, caller);
  const result = await apollo.executeOperation(
    { query },
    // The whole answer comes from one parsed subgraph response, resolved field by field by graphql-js's defaults.
    { contextValue: Object.assign({ identity }, { source: () => JSON.parse(text) as Record<string, unknown> }) },
  );
  if (result.body.kind !== 'single' || result.body.singleResult.errors)
    throw new Error(`the ${shape} query failed: ${JSON.stringify(result.body)}`);
  return JSON.stringify(result.body.singleResult.data).length;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      mb: { type: 'string', default: '16' },
      callers: { type: 'string', default: '20000' },
      shape: { type: 'string' },
    },
  });
  const shapes = values.shape ? [values.shape as Shape] : [...SHAPES];
  const results: MemoryMeasure[] = [];
  for (const shape of shapes)
    results.push(await measure(shape, Number(values.mb) * 1024 * 1024, Number(values.callers)));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(results)}\n`);
    return;
  }
  for (const result of results) {
    process.stdout.write(
      `${result.shape.padEnd(9)} ${result.callers} callers: ${result.stats.entries} entries, accounted ${(result.stats.bytes / 1048576).toFixed(2)} MiB of ${(result.stats.maxBytes / 1048576).toFixed(0)}, ` +
        `live heap +${(result.heapGrowth / 1048576).toFixed(2)} MiB (${result.heapPerAccountedByte.toFixed(2)} per accounted byte, ${result.heapPerJsonChar.toFixed(2)} per JSON char, ` +
        `${(result.heapGrowth / Math.max(1, result.stats.entries)).toFixed(0)} B per entry, ${(result.jsonChars / Math.max(1, result.stats.entries)).toFixed(0)} JSON chars each)\n`,
    );
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
