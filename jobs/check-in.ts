// Writes each attempt to enter a project's evaluation area (admitted or refused) onto the project's timeline, once.
import type { Job } from 'bullmq';
import { codeOf } from '../lib/errors';
import { ACCESS_ATTEMPT_JOB, timelineEventOf } from '../subgraphs/experts';
import type { JobServices } from './handlers';
import type { JobHandler } from './runtime';

export function createCheckInHandlers(services: JobServices): Record<string, JobHandler> {
  return {
    [ACCESS_ATTEMPT_JOB.name]: async (job: Job<{ attemptId: string }>) => {
      const [attempt] = await services.experts.accessAttemptsByIds([job.data.attemptId]);
      if (!attempt?.project_id) return 'no project to record it on';
      try {
        await services.projects.appendEvent(attempt.project_id, { ...timelineEventOf(attempt), key: `access_attempt:${attempt.id}` });
      } catch (error) {
        // An archived project's archive takes no more events; the attempt itself stays in the experts domain.
        if (codeOf(error) !== 'CONFLICT') throw error;
        return 'project archived';
      }
      return 'recorded';
    },
  };
}
