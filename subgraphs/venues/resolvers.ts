// Resolvers of the venues subgraph: argument and access checks, then the service through loaders.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { DateTime, Money } from '../../lib/scalars';
import { timeWindow } from '../../lib/window';
import type { Identity } from '../../lib/identity';
import type { SubgraphContext } from '../../lib/subgraph';
import type { VenuesLoaders } from './loaders';
import { MAX_SCHEDULE_DAYS, type Booking, type Platform, type Room, type Venue, type VenuesService, type Agreement } from './service';
import type { PlatformLevel } from './types';

export interface VenuesContext extends SubgraphContext {
  identity: Identity;
  service: VenuesService;
  loaders: VenuesLoaders;
}

type Ref = { id: string };

export const venuesResolvers: GraphQLResolverMap<VenuesContext> = {
  DateTime,
  Money,
  Query: {
    platform: (_root: unknown, { id }: Ref, ctx: VenuesContext) => ctx.loaders.platform.load(id),
    platforms: (_root: unknown, { level }: { level?: PlatformLevel }, ctx: VenuesContext) => ctx.service.listPlatforms(level ?? undefined),
    schedule: (_root: unknown, args: { from: Date; to: Date; platformId?: string | null }, ctx: VenuesContext) => {
      const window = timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS);
      // A partner system reads the schedule of its own platform's rooms only.
      if (ctx.identity.role === 'PARTNER_SYSTEM') return ctx.service.schedule(window, { platformId: args.platformId ?? undefined, visibleTo: ctx.identity.platform });
      return ctx.service.schedule(window, { platformId: args.platformId ?? undefined });
    },
  },
  Platform: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.platform.load(ref.id),
    nameEn: (platform: Platform) => platform.name_en,
    parent: (platform: Platform, _args: unknown, ctx: VenuesContext) => (platform.parent_id ? ctx.loaders.platform.load(platform.parent_id) : null),
    children: (platform: Platform, _args: unknown, ctx: VenuesContext) => ctx.loaders.children.load(platform.id),
    partners: (platform: Platform, _args: unknown, ctx: VenuesContext) => ctx.loaders.agreements.load(platform.id),
    venues: (platform: Platform, _args: unknown, ctx: VenuesContext) => ctx.loaders.venuesOfPlatform.load(platform.id),
    expertFeeRate: (platform: Platform) => platform.expert_fee_rate,
    seatServiceFee: (platform: Platform) => platform.seat_service_fee,
  },
  CooperationAgreement: {
    partner: (agreement: Agreement, _args: unknown, ctx: VenuesContext) => ctx.loaders.platform.load(agreement.partner_id),
    autoConfirm: (agreement: Agreement) => agreement.auto_confirm,
  },
  Venue: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.venue.load(ref.id),
    platform: (venue: Venue, _args: unknown, ctx: VenuesContext) => ctx.loaders.platform.load(venue.platform_id),
    rooms: (venue: Venue, _args: unknown, ctx: VenuesContext) => ctx.loaders.roomsOfVenue.load(venue.id),
  },
  EvaluationRoom: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.room.load(ref.id),
    venue: (room: Room, _args: unknown, ctx: VenuesContext) => ctx.loaders.venue.load(room.venue_id),
    videoTerminal: (room: Room) => room.video_terminal,
    freeSeats: async (room: Room, args: { from: Date; to: Date }, ctx: VenuesContext) => {
      const rows = await ctx.loaders.freeSeats.load({ roomId: room.id, window: timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS) });
      return rows[0]?.free ?? room.seats;
    },
    bookings: (room: Room, args: { from: Date; to: Date }, ctx: VenuesContext) =>
      ctx.loaders.bookingsOfRoom.load({ roomId: room.id, window: timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS) }),
  },
  VenueBooking: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.booking.load(ref.id),
    room: (booking: Booking, _args: unknown, ctx: VenuesContext) => ctx.loaders.room.load(booking.room_id),
    project: (booking: Booking) => ({ __typename: 'Project', id: booking.project_id }),
    startsAt: (booking: Booking) => booking.starts_at,
    endsAt: (booking: Booking) => booking.ends_at,
    holdExpiresAt: (booking: Booking) => booking.hold_expires_at,
  },
  Project: {
    __resolveReference: (ref: Ref) => ({ id: ref.id }),
    venueBookings: (project: Ref, _args: unknown, ctx: VenuesContext) => ctx.loaders.bookingsOfProject.load(project.id),
  },
};
