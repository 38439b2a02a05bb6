// lib/health.ts: the one readiness payload every process serves.
import { readiness } from '../lib/health';

describe('readiness', () => {
  it('is ready when every check passes, naming each', async () => {
    expect(await readiness('jobs', { redis: async () => true, outbox: async () => true })).toEqual({
      status: 'ready',
      service: 'jobs',
      checks: { redis: true, outbox: true },
    });
  });

  it('is unready when a check fails or throws, and names the failing ones', async () => {
    const payload = await readiness('venues', {
      database: async () => false,
      redis: async () => {
        throw new Error('connection refused');
      },
      disk: async () => true,
    });
    expect(payload).toEqual({
      status: 'unready',
      service: 'venues',
      checks: { database: false, redis: false, disk: true },
    });
  });
});
