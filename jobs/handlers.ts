// Which handler runs each job: the catalogue's table (jobs/catalogue.ts), every queue and job name given its handler,
// built from the domains' services.
import type { HubConfig } from '../lib/config';
import type { HandlerTable, JobSchedule, JobServices } from './contracts';
import { createCancellationHandlers } from './cancellation';
import { createNotificationHandlers } from './notifications';
import { createCheckInHandlers } from './check-in';
import { createExpertDrawHandlers } from './expert-draws';
import { createInvitationHandlers } from './invitations';
import { createVenueBookingHandlers, venueBookingSchedules } from './venue-bookings';
import { reconciliationHandlers, reconciliationSchedules } from './reconciliation';

export type { JobServices } from './contracts';

export function createJobHandlers(services: JobServices): HandlerTable {
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
