// Resolvers of the venues subgraph: argument and access checks, then the service through loaders.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { Kind, type GraphQLResolveInfo } from 'graphql';
import { AUTHORIZATION_MATRIX, type AccessFactsOf, type Scope } from '../../lib/authorization';
import { forbidden } from '../../lib/errors';
import { DateTime, Money } from '../../lib/scalars';
import { timeWindow } from '../../lib/window';
import type { Identity } from '../../lib/identity';
import type { SubgraphContext } from '../../lib/subgraph';
import type { VenuesLoaders } from './loaders';
import { MAX_SCHEDULE_DAYS } from './bookings';
import type { VenuesService } from './service';
import type { RoomInput, RoomPatch, VenueInput } from './rooms';
import type {
  Agreement,
  Booking,
  FeeRate,
  Platform,
  PlatformLevel,
  Room,
  RoomBlock,
  Venue,
  WebhookDelivery,
} from './types';

export interface VenuesContext extends SubgraphContext {
  identity: Identity;
  service: VenuesService;
  loaders: VenuesLoaders;
}

type Ref = { id: string };

/**
 * The scopes the authorization matrix grants the caller's role on a root field. The matrix has already refused the
 * roles it does not list; what a scope other than ANY means for the arguments is checked by the resolver.
 */
function grantedScopes(coordinate: string, identity: Identity): readonly Scope[] {
  const granted = AUTHORIZATION_MATRIX[coordinate]?.roles[identity.role];
  if (granted === undefined) return [];
  return typeof granted === 'string' ? [granted] : granted;
}

export const venuesResolvers: GraphQLResolverMap<VenuesContext> = {
  DateTime,
  Money,
  Query: {
    platform: (_root: unknown, { id }: Ref, ctx: VenuesContext) => ctx.loaders.platform.load(id),
    platforms: (_root: unknown, { level }: { level?: PlatformLevel }, ctx: VenuesContext) =>
      ctx.service.listPlatforms(level ?? undefined),
    schedule: (_root: unknown, args: { from: Date; to: Date; platformId?: string | null }, ctx: VenuesContext) => {
      const window = timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS);
      // OWN_PLATFORM_LIST (a partner system): only its own rooms' bookings and those of projects it hosts are listed.
      const visibleTo = grantedScopes('Query.schedule', ctx.identity).includes('ANY')
        ? undefined
        : ctx.identity.platform;
      return ctx.service.schedule(window, { platformId: args.platformId ?? undefined, visibleTo });
    },
    webhookDeliveries: (
      _root: unknown,
      args: { platformId: string; first?: number | null; after?: string | null },
      ctx: VenuesContext,
    ) => {
      // OWN_PLATFORM (operators, partner systems): the platform asked for must be the token's.
      const allowed =
        grantedScopes('Query.webhookDeliveries', ctx.identity).includes('ANY') ||
        ctx.identity.platform === args.platformId;
      if (!allowed)
        throw forbidden(
          `only operators or the partner system of platform ${args.platformId}, or a PROVINCIAL_ADMIN, may read its webhook deliveries`,
        );
      return ctx.service.webhookDeliveries(args.platformId, args);
    },
    scheduleBlocks: (
      _root: unknown,
      args: { from: Date; to: Date; platformId?: string | null },
      ctx: VenuesContext,
    ) => {
      const window = timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS);
      // OWN_PLATFORM_LIST (a partner system): only its own rooms' blocks.
      const visibleTo = grantedScopes('Query.scheduleBlocks', ctx.identity).includes('ANY')
        ? undefined
        : ctx.identity.platform;
      return ctx.service.scheduleBlocks(window, { platformId: args.platformId ?? undefined, visibleTo });
    },
  },
  Mutation: {
    confirmBooking: (_root: unknown, { bookingId }: { bookingId: string }, ctx: VenuesContext) =>
      ctx.service.confirmBooking(ctx.identity, bookingId),
    rejectBooking: (_root: unknown, args: { bookingId: string; reason: string }, ctx: VenuesContext) =>
      ctx.service.rejectBooking(ctx.identity, args.bookingId, args.reason),
    // Master data (subgraphs/venues/rooms.ts, blocks.ts): each checks the platform of its scope (requireKeeper).
    createVenue: (_root: unknown, args: { platformId: string; input: VenueInput }, ctx: VenuesContext) =>
      ctx.service.createVenue(ctx.identity, args.platformId, args.input),
    createRoom: (_root: unknown, args: { venueId: string; input: RoomInput }, ctx: VenuesContext) =>
      ctx.service.createRoom(ctx.identity, args.venueId, args.input),
    updateRoom: (_root: unknown, args: { roomId: string; patch: RoomPatch }, ctx: VenuesContext) =>
      ctx.service.updateRoom(ctx.identity, args.roomId, args.patch),
    retireRoom: (_root: unknown, args: { roomId: string }, ctx: VenuesContext) =>
      ctx.service.retireRoom(ctx.identity, args.roomId),
    putRoomBlock: (
      _root: unknown,
      args: { roomId: string; externalRef: string; from: Date; to: Date; seats?: number | null; reason: string },
      ctx: VenuesContext,
    ) => ctx.service.putRoomBlock(ctx.identity, args),
    removeRoomBlock: (_root: unknown, args: { platformId: string; externalRef: string }, ctx: VenuesContext) =>
      ctx.service.removeRoomBlock(ctx.identity, args.platformId, args.externalRef),
    // Partner endpoints, agreements and fee rates (endpoints.ts, agreements.ts, fee-rates.ts).
    setPartnerEndpoint: (_root: unknown, args: { platformId: string; url?: string | null }, ctx: VenuesContext) =>
      ctx.service.setPartnerEndpoint(ctx.identity, args.platformId, args.url ?? null),
    testPartnerEndpoint: (_root: unknown, args: { platformId: string }, ctx: VenuesContext) =>
      ctx.service.testPartnerEndpoint(ctx.identity, args.platformId),
    setCooperationAgreement: (
      _root: unknown,
      args: { platformId: string; partnerId: string; autoConfirm: boolean },
      ctx: VenuesContext,
    ) => ctx.service.setCooperationAgreement(ctx.identity, args.platformId, args.partnerId, args.autoConfirm),
    endCooperationAgreement: (_root: unknown, args: { platformId: string; partnerId: string }, ctx: VenuesContext) =>
      ctx.service.endCooperationAgreement(ctx.identity, args.platformId, args.partnerId),
    setFeeRates: (
      _root: unknown,
      args: { platformId: string; expertFeeRate: bigint; seatServiceFee: bigint; effectiveFrom: Date },
      ctx: VenuesContext,
    ) => ctx.service.setFeeRates(ctx.identity, args),
  },
  Platform: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.platform.load(ref.id),
    nameEn: (platform: Platform) => platform.name_en,
    parent: (platform: Platform, _args: unknown, ctx: VenuesContext) =>
      platform.parent_id ? ctx.loaders.platform.load(platform.parent_id) : null,
    children: (platform: Platform, _args: unknown, ctx: VenuesContext) => ctx.loaders.children.load(platform.id),
    partners: (platform: Platform, _args: unknown, ctx: VenuesContext) => ctx.loaders.agreements.load(platform.id),
    venues: (platform: Platform, _args: unknown, ctx: VenuesContext) => ctx.loaders.venuesOfPlatform.load(platform.id),
    // Today's rates: the version of fee_rate in effect now.
    expertFeeRate: async (platform: Platform, _args: unknown, ctx: VenuesContext) =>
      (await ctx.loaders.currentFeeRates.load(platform.id))?.expert_fee_rate ?? platform.expert_fee_rate,
    seatServiceFee: async (platform: Platform, _args: unknown, ctx: VenuesContext) =>
      (await ctx.loaders.currentFeeRates.load(platform.id))?.seat_service_fee ?? platform.seat_service_fee,
    feeRateHistory: (platform: Platform, _args: unknown, ctx: VenuesContext) =>
      ctx.loaders.feeRateHistory.load(platform.id),
  },
  FeeRates: {
    expertFeeRate: (rate: FeeRate) => rate.expert_fee_rate,
    seatServiceFee: (rate: FeeRate) => rate.seat_service_fee,
    effectiveFrom: (rate: FeeRate) => rate.effective_from,
  },
  CooperationAgreement: {
    partner: (agreement: Agreement, _args: unknown, ctx: VenuesContext) =>
      ctx.loaders.platform.load(agreement.partner_id),
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
      const rows = await ctx.loaders.freeSeats.load({
        roomId: room.id,
        window: timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS),
      });
      return rows[0]?.free ?? room.seats;
    },
    // Only the bookings the caller may read are listed (VenueBooking's row of lib/authorization.ts).
    bookings: (room: Room, args: { from: Date; to: Date }, ctx: VenuesContext) =>
      ctx.loaders.bookingsOfRoom.load({ roomId: room.id, window: timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS) }),
    // Only the blocks the caller may read are listed (RoomBlock's row of lib/authorization.ts).
    blocks: (room: Room, args: { from: Date; to: Date }, ctx: VenuesContext) =>
      ctx.loaders.blocksOfRoom.load({ roomId: room.id, window: timeWindow(args.from, args.to, MAX_SCHEDULE_DAYS) }),
    retired: (room: Room) => room.retired_at !== null,
  },
  RoomBlock: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.block.load(ref.id),
    room: (block: RoomBlock, _args: unknown, ctx: VenuesContext, info: GraphQLResolveInfo) =>
      roomOf(block.room_id, ctx, info),
    startsAt: (block: RoomBlock) => block.starts_at,
    endsAt: (block: RoomBlock) => block.ends_at,
    externalRef: (block: RoomBlock) => block.external_ref,
  },
  VenueBooking: {
    __resolveReference: (ref: Ref, ctx: VenuesContext) => ctx.loaders.booking.load(ref.id),
    room: (booking: Booking, _args: unknown, ctx: VenuesContext, info: GraphQLResolveInfo) =>
      roomOf(booking.room_id, ctx, info),
    project: (booking: Booking) => ({ __typename: 'Project', id: booking.project_id }),
    startsAt: (booking: Booking) => booking.starts_at,
    endsAt: (booking: Booking) => booking.ends_at,
    holdExpiresAt: (booking: Booking) => booking.hold_expires_at,
  },
  WebhookDelivery: {
    platform: (delivery: WebhookDelivery, _args: unknown, ctx: VenuesContext) =>
      ctx.loaders.platform.load(delivery.platform_id),
    booking: (delivery: WebhookDelivery, _args: unknown, ctx: VenuesContext) =>
      delivery.booking_id === null ? null : ctx.loaders.booking.load(delivery.booking_id),
    lastStatusCode: (delivery: WebhookDelivery) => delivery.last_status_code,
    lastError: (delivery: WebhookDelivery) => delivery.last_error,
    createdAt: (delivery: WebhookDelivery) => delivery.created_at,
    deliveredAt: (delivery: WebhookDelivery) => delivery.delivered_at,
  },
  Project: {
    __resolveReference: (ref: Ref) => ({ id: ref.id }),
    venueBookings: (project: Ref, _args: unknown, ctx: VenuesContext) => ctx.loaders.bookingsOfProject.load(project.id),
  },
};

/**
 * The room a booking or block is in. Asked for its id alone (the gateway's reference cache asks so, and fills in the
 * rest), the id is all it needs: the row references the room, and every caller may read rooms.
 */
function roomOf(roomId: string, ctx: VenuesContext, info: GraphQLResolveInfo): Promise<Room | null> | { id: string } {
  return selectsIdOnly(info) ? { id: roomId } : ctx.loaders.room.load(roomId);
}

/** True when every selection of the field is `id` or `__typename`, with no directive. */
function selectsIdOnly(info: GraphQLResolveInfo): boolean {
  return info.fieldNodes.every((node) =>
    (node.selectionSet?.selections ?? []).every(
      (selection) =>
        selection.kind === Kind.FIELD &&
        !selection.directives?.length &&
        (selection.name.value === 'id' || selection.name.value === '__typename'),
    ),
  );
}

/** The platform of a room, through its venue (both loaded per tick). */
async function platformOfRoom(roomId: string, ctx: VenuesContext): Promise<string | null> {
  const room = await ctx.loaders.room.load(roomId);
  const venue = room ? await ctx.loaders.venue.load(room.venue_id) : null;
  return venue?.platform_id ?? null;
}

/** What lib/authorization.ts decides a booking's or project's scopes from: the project's facts and the rooms' platforms. */
export const venuesAccessFacts: AccessFactsOf<VenuesContext> = {
  VenueBooking: (booking: Booking, ctx: VenuesContext) => ({
    project: () => ctx.loaders.projectAccess.load(booking.project_id),
    seatedExperts: async () => (await ctx.loaders.seatedExperts.load(booking.id)).map((seat) => seat.expert_id),
    roomPlatforms: async () => {
      const platform = await platformOfRoom(booking.room_id, ctx);
      return platform ? [platform] : [];
    },
  }),
  RoomBlock: (block: RoomBlock) => ({ roomPlatforms: async () => [block.platform_id] }),
  Project: (project: Ref, ctx: VenuesContext) => ({
    project: () => ctx.loaders.projectAccess.load(project.id),
    roomPlatforms: async () => {
      const bookings = await ctx.loaders.bookingsOfProject.load(project.id);
      const platforms = await Promise.all(bookings.map((booking) => platformOfRoom(booking.room_id, ctx)));
      return platforms.filter((platform): platform is string => platform !== null);
    },
  }),
};
