// Step 8 of the workflow, 档案保存: the archive's export bundle, one self-verifying JSON document of a project's
// timeline, bookings, ledger and draws (docs/archive-format.md); the committee is in it only where the caller may read it.
import { forbidden } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import { GENESIS_HASH, type ProjectsService } from '../service';
import type { Json } from '../../../lib/canonical-json';
import type { BookingDesk, DrawDesk, DrawSeat, ProjectDraw } from '../desks';
import { verifyChain } from './archive';

// ------------------------------------------------------------------------------------------------ the export bundle

/** What the bundle needs of the other domains (through the desks, never their tables). */
export interface ArchiveDependencies {
  projects: ProjectsService;
  venues: BookingDesk;
  experts: DrawDesk;
}

export const BUNDLE_FORMAT = 'remote-evaluation-archive';
export const BUNDLE_FORMAT_VERSION = 1;

/** docs/archive-format.md describes every field; the independent verifier (app/cli/verify-archive.ts) reads it. */
export interface ArchiveBundle {
  format: typeof BUNDLE_FORMAT;
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  exportedAt: string;
  /** Whether the committee (seat holders, candidate lists) is included: only for those allowed to read it now. */
  sealedPartsIncluded: boolean;
  project: {
    id: string;
    code: string;
    name: string;
    category: string;
    department: string;
    hostPlatform: { id: string; name: string };
    tenderer: string;
    agency: string;
    bidders: string[];
    budget: string;
    mode: string;
    procurementMethod: string;
    committeeSize: number;
    tendererRepresentatives: number;
    evaluationStartsAt: string;
    evaluationEndsAt: string;
    status: string;
    feeAdvance: string | null;
  };
  archive: {
    algorithm: 'sha256(prevHash || canonicalJson(event))';
    genesis: string;
    entries: number;
    head: string;
    intact: boolean;
    firstBrokenEntry: number | null;
  };
  events: {
    seq: number;
    at: string;
    kind: string;
    actor: string;
    detail: string | null;
    data: Json;
    prevHash: string;
    hash: string;
  }[];
  ledger: {
    id: string;
    kind: string;
    payer: string;
    payee: string;
    amount: string;
    reverses: string | null;
    settledAt: string | null;
    createdAt: string;
  }[];
  bookings: {
    id: string;
    role: string;
    roomId: string;
    platformId: string | null;
    seats: number;
    startsAt: string;
    endsAt: string;
    status: string;
  }[];
  draws: BundleDraw[];
}

interface BundleDraw {
  id: string;
  status: string;
  seedCommitment: string;
  seed: string | null;
  supervisorNonce: string | null;
  unsealedAt: string | null;
  groups: {
    groupKey: string;
    bookingId: string;
    roomId: string;
    platformId: string;
    role: string;
    specialty: string;
    seats: number;
    rounds: {
      round: number;
      candidates: string[] | null;
      /** This and the stream positions and quota: null until the seal lifts (with the seed they allow recomputing the committee). */
      candidatesDigest: string | null;
      hostRegionCandidates: string[] | null;
      hostQuota: number | null;
      wanted: number;
      counterStart: number | null;
      counterEnd: number | null;
      selected: string[] | null;
      outcome: string;
    }[];
  }[];
  seats: {
    id: string;
    bookingId: string;
    roomId: string;
    groupKey: string | null;
    specialty: string;
    round: number;
    status: string;
    replacesSeatId: string | null;
    expertId?: string | null;
    expertName?: string | null;
  }[];
}

/** Whether the reader may see the expert of every seat (asked seat by seat, stopping at the first refusal). */
async function everySeatReadable(
  experts: DrawDesk,
  reader: Identity,
  draw: ProjectDraw,
  seats: readonly DrawSeat[],
): Promise<boolean> {
  for (const seat of seats) if (!(await experts.mayReadSeatExpert(reader, draw, seat))) return false;
  return true;
}

/**
 * The archive of a project as one JSON document: the project, every event with its hashes, the ledger, the bookings and
 * the draws. The committee (who sits on which seat, and the candidate lists from which, with the revealed seed, anyone
 * could recompute it) is included only for a caller allowed to read the seats' experts now (the experts' rule, DrawDesk),
 * and each seat so revealed is written to the access audit. Until a draw's seal lifts (the evaluation starts) its seed,
 * candidate digests, stream positions and host quotas are null for everyone: with the pool they would let the committee
 * be recomputed.
 */
export async function archiveBundle(
  deps: ArchiveDependencies,
  identity: Identity,
  projectId: string,
  options: { withSealedParts?: boolean } = {},
): Promise<ArchiveBundle> {
  const project = await deps.projects.getProject(projectId);
  if (!(await deps.projects.canRead(identity, project)))
    throw forbidden(`your role may not read project ${projectId} or its archive`);
  const [events, ledger, bookings, [host], draws] = await Promise.all([
    deps.projects.eventsOfProjects([projectId]),
    deps.projects.ledgerOf([projectId]),
    deps.venues.bookingsOfProjects([projectId]),
    deps.venues.platformsByIds([project.host_platform_id]),
    deps.experts.drawsOfProject(projectId),
  ]);
  const roomRows =
    bookings.length > 0 ? await deps.venues.roomsWithPlatform(bookings.map((booking) => booking.room_id)) : [];
  const rooms = new Map(roomRows.map((room) => [room.id, room]));
  const verification = verifyChain(projectId, events);

  const reads: { draw: ProjectDraw; seat: DrawSeat }[] = [];
  let sealedPartsIncluded = draws.length > 0;
  const bundleDraws: BundleDraw[] = [];
  for (const draw of draws) {
    const [groups, rounds, seats] = await Promise.all([
      deps.experts.groupsOfDraw(draw.id),
      deps.experts.roundsOfDraw(draw.id),
      deps.experts.seatsOfDraws([draw.id]),
    ]);
    const sealLifted = draw.sealLifted;
    const committeeReadable =
      sealLifted &&
      options.withSealedParts !== false &&
      seats.length > 0 &&
      (await everySeatReadable(deps.experts, identity, draw, seats));
    sealedPartsIncluded &&= committeeReadable;
    const expertIds = seats.flatMap((seat) => (seat.expert_id ? [seat.expert_id] : []));
    const names = new Map(
      committeeReadable && expertIds.length > 0
        ? (await deps.experts.expertsByIds(expertIds)).map((expert) => [expert.id, expert.name])
        : [],
    );
    if (committeeReadable) reads.push(...seats.filter((seat) => seat.expert_id).map((seat) => ({ seat, draw })));
    bundleDraws.push({
      id: draw.id,
      status: draw.status,
      seedCommitment: draw.seed_commitment,
      seed: draw.revealedSeed,
      supervisorNonce: draw.supervisor_nonce,
      unsealedAt: draw.unsealed_at?.toISOString() ?? null,
      groups: groups.map((group) => ({
        groupKey: group.group_key,
        bookingId: group.booking_id,
        roomId: group.room_id,
        platformId: group.platform_id,
        role: group.role,
        specialty: group.specialty,
        seats: group.seats,
        rounds: rounds
          .filter((round) => round.group_key === group.group_key)
          .map((round) => ({
            round: round.round,
            candidates: committeeReadable ? round.candidates : null,
            candidatesDigest: sealLifted ? round.candidates_digest : null,
            hostRegionCandidates: committeeReadable ? round.host_region_candidates : null,
            hostQuota: sealLifted ? round.host_quota : null,
            wanted: round.wanted,
            counterStart: sealLifted ? Number(round.counter_start) : null,
            counterEnd: sealLifted ? Number(round.counter_end) : null,
            selected: committeeReadable ? round.selected : null,
            outcome: round.outcome,
          })),
      })),
      seats: seats.map((seat) => ({
        id: seat.id,
        bookingId: seat.booking_id,
        roomId: seat.room_id,
        groupKey: seat.group_key,
        specialty: seat.specialty,
        round: seat.round,
        status: seat.status,
        replacesSeatId: seat.replaces_seat_id,
        ...(committeeReadable
          ? { expertId: seat.expert_id, expertName: seat.expert_id ? (names.get(seat.expert_id) ?? null) : null }
          : {}),
      })),
    });
  }
  await deps.experts.recordSealedReads(identity, 'archiveBundle.seats.expert', reads);

  return {
    format: BUNDLE_FORMAT,
    formatVersion: BUNDLE_FORMAT_VERSION,
    exportedAt: new Date().toISOString(),
    sealedPartsIncluded,
    project: {
      id: project.id,
      code: project.code,
      name: project.name,
      category: project.category,
      department: project.department,
      hostPlatform: { id: project.host_platform_id, name: host?.name ?? project.host_platform_id },
      tenderer: project.tenderer,
      agency: project.agency,
      bidders: project.bidders,
      budget: String(project.budget),
      mode: project.mode,
      procurementMethod: project.procurement_method,
      committeeSize: project.committee_size,
      tendererRepresentatives: project.tenderer_representatives,
      evaluationStartsAt: project.evaluation_starts_at.toISOString(),
      evaluationEndsAt: project.evaluation_ends_at.toISOString(),
      status: project.status,
      feeAdvance: project.fee_advance === null ? null : String(project.fee_advance),
    },
    archive: {
      algorithm: 'sha256(prevHash || canonicalJson(event))',
      genesis: GENESIS_HASH,
      entries: verification.entries,
      head: verification.head,
      intact: verification.intact,
      firstBrokenEntry: verification.firstBrokenEntry,
    },
    events: events.map((event) => ({
      seq: event.seq,
      at: event.at.toISOString(),
      kind: event.kind,
      actor: event.actor,
      detail: event.detail,
      data: event.data as Json,
      prevHash: event.prev_hash,
      hash: event.hash,
    })),
    ledger: ledger.map((entry) => ({
      id: entry.id,
      kind: entry.kind,
      payer: entry.payer,
      payee: entry.payee,
      amount: String(entry.amount),
      reverses: entry.reverses,
      settledAt: entry.settled_at?.toISOString() ?? null,
      createdAt: entry.created_at.toISOString(),
    })),
    bookings: bookings.map((booking) => ({
      id: booking.id,
      role: booking.role,
      roomId: booking.room_id,
      platformId: rooms.get(booking.room_id)?.platform_id ?? null,
      seats: booking.seats,
      startsAt: booking.starts_at.toISOString(),
      endsAt: booking.ends_at.toISOString(),
      status: booking.status,
    })),
    draws: bundleDraws,
  };
}
