// Resolvers of the experts subgraph: thin wrappers over the service, with sealing applied per field.
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper';
import { requireRole } from '../../lib/authz';
import { DateTime } from '../../lib/scalars';
import type { SubgraphContext } from '../../lib/subgraph';
import type { ExpertsLoaders } from './loaders';
import { mayReadExpertIdentity, mayReadSeatExpert, sealedError } from './sealing';
import type { CommitteeSeat, Draw, Expert, ExpertsService } from './service';

export interface ExpertsContext extends SubgraphContext {
  service: ExpertsService;
  loaders: ExpertsLoaders;
}

type Ref = { id: string };

export const expertsResolvers: GraphQLResolverMap<ExpertsContext> = {
  DateTime,
  Query: {
    expertDraw: (_root: unknown, { id }: Ref, ctx: ExpertsContext) => ctx.loaders.draw.load(id),
    experts: (_root: unknown, args: { platformId: string; specialty?: string; first?: number; after?: string }, ctx: ExpertsContext) => {
      requireRole(ctx.identity, ['PROVINCIAL_ADMIN'], 'browse the expert pool');
      return ctx.service.listExperts(args);
    },
  },
  Expert: {
    __resolveReference: (ref: Ref, ctx: ExpertsContext) => ctx.loaders.expert.load(ref.id),
    homePlatform: (expert: Expert) => ({ __typename: 'Platform', id: expert.home_platform_id }),
    name: (expert: Expert, _args: unknown, ctx: ExpertsContext) => {
      if (!mayReadExpertIdentity(ctx.identity, expert)) throw sealedError('Expert.name');
      return expert.name;
    },
    employer: (expert: Expert, _args: unknown, ctx: ExpertsContext) => {
      if (!mayReadExpertIdentity(ctx.identity, expert)) throw sealedError('Expert.employer');
      return expert.employer;
    },
  },
  ExpertDraw: {
    __resolveReference: (ref: Ref, ctx: ExpertsContext) => ctx.loaders.draw.load(ref.id),
    project: (draw: Draw) => ({ __typename: 'Project', id: draw.project_id }),
    seedCommitment: (draw: Draw) => draw.seed_commitment,
    seed: (draw: Draw) => (draw.seed_revealed ? draw.seed : null),
    failureReason: (draw: Draw) => draw.failure_reason,
    seats: (draw: Draw, _args: unknown, ctx: ExpertsContext) => ctx.loaders.seatsOfDraw.load(draw.id),
  },
  CommitteeSeat: {
    __resolveReference: (ref: Ref, ctx: ExpertsContext) => ctx.loaders.seat.load(ref.id),
    draw: (seat: CommitteeSeat, _args: unknown, ctx: ExpertsContext) => ctx.loaders.draw.load(seat.draw_id),
    booking: (seat: CommitteeSeat) => ({ __typename: 'VenueBooking', id: seat.booking_id }),
    expert: (seat: CommitteeSeat, _args: unknown, ctx: ExpertsContext) => {
      if (seat.expert_id === null) return null;
      if (!mayReadSeatExpert(ctx.identity, seat)) throw sealedError('CommitteeSeat.expert');
      return ctx.loaders.expert.load(seat.expert_id);
    },
  },
  Project: {
    __resolveReference: (ref: Ref) => ({ id: ref.id }),
    expertDraw: (project: Ref, _args: unknown, ctx: ExpertsContext) => ctx.loaders.latestDrawOfProject.load(project.id),
  },
};
