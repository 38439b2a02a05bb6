// The response cache stays within HUB_RESPONSE_CACHE_MB when flooded by many distinct callers: by its own accounting
// (which estimates the heap of each answer's frozen object graph, not its serialized length), by the live heap it keeps
// (measured in a child process with the GC exposed, after a full collection), and its coalescing map is bounded.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { listenForChanges, type ChangeFeed } from '../lib/change-feed';
import { createLogger } from '../lib/logger';
import { createMetrics } from '../lib/metrics';
import type { Identity } from '../lib/identity';
import { ENTRY_OVERHEAD_BYTES, responseCachePlugin } from '../gateway/response-cache';
import type { MemoryMeasure } from '../bench/response-cache-memory';
import { eventually } from './support/hub';

const run = promisify(execFile);
const root = join(__dirname, '..');

describe('flooded by distinct callers', () => {
  jest.setTimeout(240_000);

  it.each(['platform', 'schedule'] as const)(
    'keeps the %s answers of 3,000 callers within a 2 MiB budget, accounted and in live heap',
    async (shape) => {
      const maxBytes = 2 * 1024 * 1024;
      const { stdout } = await run(
        process.execPath,
        [
          '--expose-gc',
          '-r',
          'ts-node/register/transpile-only',
          'bench/response-cache-memory.ts',
          '--json',
          '--mb',
          '2',
          '--callers',
          '3000',
          '--shape',
          shape,
        ],
        { cwd: root, env: { ...process.env, TS_NODE_PROJECT: join(root, 'tsconfig.json') }, maxBuffer: 1 << 20 },
      );
      const [measure] = JSON.parse(stdout) as MemoryMeasure[];
      expect(measure.stats.maxBytes).toBe(maxBytes);
      // The flood overflowed the budget (the LRU evicted), and what is left is within it by the cache's own count.
      expect(measure.stats.bytes).toBeGreaterThan(maxBytes * 0.9);
      expect(measure.stats.bytes).toBeLessThanOrEqual(maxBytes);
      expect(measure.stats.entries).toBeLessThan(3000);
      expect(measure.stats.entries).toBeLessThanOrEqual(Math.floor(maxBytes / ENTRY_OVERHEAD_BYTES));
      expect(measure.stats.inFlight).toBe(0);
      // The heap really held stays within the budget: the accounting does not undercount.
      expect(measure.heapGrowth).toBeLessThanOrEqual(maxBytes);
    },
  );
});

describe('coalescing', () => {
  let feed: ChangeFeed;
  beforeAll(async () => {
    feed = listenForChanges(
      process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      `{cache-memory-test-${process.pid}}`,
      createLogger('test', 'silent'),
    );
    expect(await feed.whenListening(5000)).toBe(true);
  });
  afterAll(async () => {
    await feed.close();
  });

  it('holds at most maxInFlight queries for others to wait on, and lets the rest run uncoalesced', async () => {
    const cache = responseCachePlugin<{ identity: Identity }>(1024 * 1024, feed, createMetrics('cache-memory-test'), {
      maxInFlight: 10,
    });
    let started = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const apollo = new ApolloServer<{ identity: Identity }>({
      typeDefs: 'type Query { slow: String! }',
      resolvers: {
        Query: {
          slow: async () => {
            started++;
            await gate;
            return 'answered';
          },
        },
      },
      plugins: [ApolloServerPluginCacheControl({ defaultMaxAge: 60, calculateHttpHeaders: false }), cache.plugin],
    });
    await apollo.start();
    try {
      const callers = Array.from({ length: 30 }, (_, index): Identity => ({
        sub: `waiting-${index}`,
        role: 'PLATFORM_OPERATOR',
        platform: '411700',
      }));
      const answers = callers.map((identity) =>
        apollo.executeOperation({ query: '{ slow }' }, { contextValue: { identity } }),
      );
      await eventually(async () => (started === 30 ? true : undefined), 15_000, 'all 30 queries to be executing');
      expect(cache.stats().inFlight).toBe(10);
      release();
      for (const answer of await Promise.all(answers)) {
        expect(answer.body.kind === 'single' && answer.body.singleResult.data).toEqual({ slow: 'answered' });
      }
      expect(cache.stats()).toMatchObject({ inFlight: 0, entries: 30 });
    } finally {
      release();
      await apollo.stop();
    }
  });
});
