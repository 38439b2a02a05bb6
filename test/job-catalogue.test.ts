// The job catalogue holds at compile time: a queue, job name or payload it does not list is a type error at both ends
// (the outbox message a domain writes, the handler table the workers run). Each @ts-expect-error below fails the
// typecheck (npm test runs it) if the line under it ever compiles; the assertions check the well-typed half at run time.
import type { Job } from 'bullmq';
import {
  arrangeMessage,
  isQueueName,
  jobMessage,
  JOBS,
  projectCancelledMessage,
  QUEUE_NAMES,
  type HubJobMessage,
} from '../jobs/catalogue';
import type { CatalogueHandler, HandlerTable, QueueHandlers } from '../jobs/contracts';

describe('the job catalogue', () => {
  it('types an outbox message by its queue, job name and payload', () => {
    const good: HubJobMessage[] = [
      { queue: 'expert-draws', name: 'draw', data: { drawId: 'drw_1', projectId: 'prj_1' } },
      jobMessage(JOBS.webhook, { deliveryId: 'whd_1', attempt: 2 }, 500),
      projectCancelledMessage({ projectId: 'prj_1', reason: 'withdrawn' }),
    ];
    // @ts-expect-error a queue the catalogue does not list
    good.push({ queue: 'mail', name: 'draw', data: { drawId: 'drw_1', projectId: 'prj_1' } });
    // @ts-expect-error a job name its queue does not run ('draw' runs on expert-draws)
    good.push({ queue: 'venue-bookings', name: 'draw', data: { drawId: 'drw_1', projectId: 'prj_1' } });
    // @ts-expect-error a payload of another job
    good.push({ queue: 'expert-draws', name: 'draw', data: { seatId: 'seat_1' } });
    // @ts-expect-error the payload of a catalogued job through the helper, missing a field
    jobMessage(JOBS.projectCancelled, { projectId: 'prj_1' });
    arrangeMessage({
      arrangementId: 'arr_1',
      projectId: 'prj_1',
      hostPlatformId: '411700',
      startsAt: 'a',
      endsAt: 'b',
      // @ts-expect-error a payload field of the wrong type
      requests: [{ roomId: 'r', role: 'HOST', seats: 1 }],
    });
    expect(good.slice(0, 3).map((message) => [message.queue, message.name])).toEqual([
      ['expert-draws', 'draw'],
      ['notifications', 'webhook'],
      ['venue-bookings', 'project-cancelled'],
    ]);
    expect(good[1]).toMatchObject({ delayMs: 500, data: { deliveryId: 'whd_1', attempt: 2 } });
  });

  it('types the handler table: every job of a queue has a handler, whose job data is that job payload', async () => {
    const draws: QueueHandlers<'expert-draws'> = {
      draw: async (job) => job.data.drawId,
      replace: async (job) => job.data.seatId,
      'invitation-timeout': async (job) => job.data.seatId,
      'committee-complete': async (job) => job.data.drawId,
      'record-access-attempt': async (job) => job.data.attemptId,
    };
    // @ts-expect-error a queue's handlers without one of its jobs (record-access-attempt)
    const missing: QueueHandlers<'expert-draws'> = {
      draw: draws.draw,
      replace: draws.replace,
      'invitation-timeout': draws['invitation-timeout'],
      'committee-complete': draws['committee-complete'],
    };
    // @ts-expect-error a handler reading the payload of another job
    const wrongPayload: CatalogueHandler<'expert-draws', 'draw'> = async (job: Job<{ seatId: string }>) =>
      job.data.seatId;
    // @ts-expect-error a queue the catalogue does not list
    const wrongQueue: Partial<HandlerTable> = { mail: {} };
    void [missing, wrongPayload, wrongQueue];
    // What the runtime hands a handler: a job whose data is the payload the outbox message carried.
    const jobOf = <T>(data: T) => ({ data }) as unknown as Job<T>;
    const tools = { queues: {} } as unknown as Parameters<CatalogueHandler<'expert-draws', 'draw'>>[1];
    await expect(draws.draw(jobOf({ drawId: 'drw_1', projectId: 'prj_1' }), tools)).resolves.toBe('drw_1');
    await expect(draws['record-access-attempt'](jobOf({ attemptId: 'att_1' }), tools)).resolves.toBe('att_1');
  });

  it('lists the queues the runtime opens', () => {
    expect([...QUEUE_NAMES].sort()).toEqual(['expert-draws', 'notifications', 'reconciliation', 'venue-bookings']);
    expect(isQueueName('notifications')).toBe(true);
    expect(isQueueName('mail')).toBe(false);
  });
});
