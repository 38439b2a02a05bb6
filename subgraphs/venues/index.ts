// The venues domain's one door: the only file of subgraphs/venues that code outside it imports. Everything else in
// this folder (the files the service delegates to, resolvers, loaders, the seat SQL) is the domain's own business.
// The list is deliberate: add to it only what another part needs, and say who needs it.

// The service other parts call (projects' steps, the jobs) and the process parts the composition root wires.
export { VenuesService } from './service';
export { venuesSubgraph } from './server';
/** What the subgraph asks of the projects and experts domains; the composition root passes their readers. */
export type { ProjectAccessSource, SeatHolderSource } from './loaders';
export { venuesMigrations } from './migrations';
/** The composition root opens the venues database with this type and hands it to the service and the subgraph only. */
export type { VenuesDatabase } from './types';
/** How webhooks are delivered, built by the composition root from the configuration (tests add their resolver). */
export { deliverySettingsOf } from './endpoints';
export type { PartnerDeliverySettings, TestDeliveryOptions } from './endpoints';

// The rows the service hands out, and the shapes its verbs take.
export type {
  Agreement,
  Arrangement,
  ArrangementRoom,
  Booking,
  FeeRate,
  Platform,
  Room,
  Venue,
  WebhookDelivery,
  Window,
} from './types';
export type { BookingRole, BookingStatus, PlatformLevel, SeatRequest } from './types';
export type { ArrangementHolds, ArrangementOutcome, HoldResult, NewArrangement } from './booking-saga';
export type { WebhookAttemptResult } from './webhooks';

// Rules other parts must read the same way: which bookings keep their seats, and how a cancellation's release reads.
export { CLOSED_BOOKING_STATUSES, LIVE_BOOKING_STATUSES } from './types';
export { CANCELLED_REASON } from './booking-saga';

// Table shapes for the demo seed and the bench loader, which write reference rows into this schema directly.
export type {
  BookingSeatTable,
  BookingTable,
  CooperationAgreementTable,
  PlatformTable,
  RoomTable,
  SeatTable,
  VenueTable,
} from './types';
