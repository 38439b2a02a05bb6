// Which handler runs each job: the queues' handlers, built from the domains' services.
import type { HubConfig } from '../lib/config';
import type { Logger } from '../lib/logger';
import type { ExpertsService } from '../subgraphs/experts';
import type { ProjectsService } from '../subgraphs/projects/service';
import type { VenuesService } from '../subgraphs/venues/service';
import type { JobHandlers, JobSchedule } from './runtime';
import { createCancellationHandlers } from './cancellation';
import { createNotificationHandlers } from './notifications';
import { createCheckInHandlers } from './check-in';
import { createExpertDrawHandlers } from './expert-draws';
import { createInvitationHandlers } from './invitations';
import { createVenueBookingHandlers, venueBookingSchedules } from './venue-bookings';
import { reconciliationHandlers, reconciliationSchedules } from './reconciliation';

export interface JobServices {
  config: HubConfig;
  logger: Logger;
  venues: VenuesService;
  experts: ExpertsService;
  projects: ProjectsService;
}

export function createJobHandlers(services: JobServices): JobHandlers {
  return {
    'venue-bookings': { ...createVenueBookingHandlers(services), ...createCancellationHandlers(services) },
    notifications: { ...createNotificationHandlers(services), ...createInvitationHandlers(services) },
    'expert-draws': { ...createExpertDrawHandlers(services), ...createCheckInHandlers(services) },
    reconciliation: reconciliationHandlers(services),
  };
}

/** Repeating jobs (BullMQ job schedulers) every jobs process registers at start. */
export function jobSchedules(config: HubConfig): JobSchedule[] {
  return [...venueBookingSchedules(config), ...reconciliationSchedules(config)];
}
