// Resolvers of keeping the pool (pool-keeping.ts, declarations.ts): thin wrappers over the service. Who may call them
// is the matrix's (lib/authorization.ts); an expert's declarations take its record from the token, never an argument.
import type { Identity } from '../../lib/identity';
import type { ExpertsLoaders } from './loaders';
import type { PlatformLookup } from './pool-import';
import type { ExpertsService } from './service';
import type { ConflictKind, Unavailability } from './declarations';
import type { ExpertPatch, ExpertInput } from './pool-keeping';
import type { ExpertView } from './sealing';

type Kind = { kind: ConflictKind };
/** What these resolvers use of the subgraph's context (resolvers.ts ExpertsContext). */
interface ExpertsContext {
  identity: Identity;
  service: ExpertsService;
  loaders: ExpertsLoaders;
  platforms: PlatformLookup;
}

export const poolKeepingMutations = {
  registerExpert: (_root: unknown, args: { input: ExpertInput }, ctx: ExpertsContext) =>
    ctx.service.registerExpert(ctx.platforms, ctx.identity, args.input),
  updateExpert: (_root: unknown, args: { expertId: string; patch: ExpertPatch }, ctx: ExpertsContext) =>
    ctx.service.updateExpert(ctx.platforms, ctx.identity, args.expertId, args.patch),
  recordEmployment: (
    _root: unknown,
    args: { expertId: string; employer: string; from: Date; to?: Date | null },
    ctx: ExpertsContext,
  ) => ctx.service.recordEmployment(ctx.identity, args),
  suspendExpert: (
    _root: unknown,
    args: { expertId: string; until?: Date | null; reason: string; withdrawSeats?: boolean | null },
    ctx: ExpertsContext,
  ) => ctx.service.suspendExpert(ctx.identity, args),
  reinstateExpert: (_root: unknown, args: { expertId: string }, ctx: ExpertsContext) =>
    ctx.service.reinstateExpert(ctx.identity, args.expertId),
  recordPenalty: (
    _root: unknown,
    args: { expertId: string; reason: string; until?: Date | null; withdrawSeats?: boolean | null },
    ctx: ExpertsContext,
  ) => ctx.service.recordPenalty(ctx.identity, args),
  retireExpert: (_root: unknown, args: { expertId: string; withdrawSeats?: boolean | null }, ctx: ExpertsContext) =>
    ctx.service.retireExpert(ctx.identity, args),
  removeConflict: (_root: unknown, args: { expertId: string; organisation: string } & Kind, ctx: ExpertsContext) =>
    ctx.service.removeConflict(ctx.identity, args),
  declareConflict: (_root: unknown, args: { organisation: string } & Kind, ctx: ExpertsContext) =>
    ctx.service.declareConflict(ctx.identity, args),
  declareUnavailability: (
    _root: unknown,
    args: { from: Date; to: Date; reason?: string | null },
    ctx: ExpertsContext,
  ) => ctx.service.declareUnavailability(ctx.identity, args),
  cancelUnavailability: (_root: unknown, args: { id: string }, ctx: ExpertsContext) =>
    ctx.service.cancelUnavailability(ctx.identity, args.id),
};

/** Expert's fields of the pool's keeping. */
export const poolKeepingExpertFields = {
  suspendedUntil: (expert: ExpertView) => expert.suspended_until,
  unavailability: (expert: ExpertView, _args: unknown, ctx: ExpertsContext): Promise<Unavailability[]> =>
    ctx.loaders.unavailabilityOfExpert.load(expert.id),
};
