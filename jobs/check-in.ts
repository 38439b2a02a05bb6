// Writes each attempt to enter a project's evaluation area (admitted or refused) onto the project's timeline, once.
import { codeOf } from '../lib/errors';
import { timelineEventOf } from '../subgraphs/experts';
import { JOBS } from './catalogue';
import type { JobServices, QueueHandlers } from './contracts';

export function createCheckInHandlers(
  services: JobServices,
): Pick<QueueHandlers<'expert-draws'>, 'record-access-attempt'> {
  return {
    [JOBS.accessAttempt.name]: async (job) => {
      const [attempt] = await services.experts.accessAttemptsByIds([job.data.attemptId]);
      if (!attempt?.project_id) return 'no project to record it on';
      try {
        await services.projects.appendEvent(attempt.project_id, {
          ...timelineEventOf(attempt),
          key: `access_attempt:${attempt.id}`,
        });
      } catch (error) {
        // An archived project's archive takes no more events; the attempt itself stays in the experts domain.
        if (codeOf(error) !== 'CONFLICT') throw error;
        return 'project archived';
      }
      return 'recorded';
    },
  };
}
