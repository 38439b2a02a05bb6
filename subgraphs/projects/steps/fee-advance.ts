// Step 4 of the workflow, 评标费预支: the agency advances the evaluation fee the hub computes; the ledger records who owes whom.
import { actorOf } from '../../../lib/authz';
import { conflict, forbidden } from '../../../lib/errors';
import type { Identity } from '../../../lib/identity';
import type { BookingDesk } from '../desks';
import { computeFeeAdvance, formatYuan, type FeeBooking, type FeeRates } from '../fees';
import { feeAdvanceEntries, insertLedgerEntriesIn, ledgerEventData } from '../ledger';
import type { Project, ProjectsService } from '../service';

export interface FeeAdvanceDependencies {
  projects: ProjectsService;
  venues: BookingDesk;
}

/** The project's agency, or an operator of its host platform. */
function requireFeePayer(identity: Identity, project: Project): void {
  if (identity.role === 'AGENCY' && identity.org === project.agency) return;
  if (identity.role === 'PLATFORM_OPERATOR' && identity.platform === project.host_platform_id) return;
  throw forbidden(
    `only the project's agency or an operator of platform ${project.host_platform_id} may advance its evaluation fee`,
  );
}

/**
 * Advances a project's evaluation fee: computes it from the confirmed bookings and the platforms' rates (never typed in),
 * writes the ledger entries and moves the project to FEE_ADVANCED, all in one transaction.
 *
 * ```ts
 * const project = await advanceEvaluationFee({ projects, venues }, identity, 'prj_…');
 * project.fee_advance; // "540000"
 * ```
 */
export async function advanceEvaluationFee(
  deps: FeeAdvanceDependencies,
  identity: Identity,
  projectId: string,
): Promise<Project> {
  const project = await deps.projects.getProject(projectId);
  requireFeePayer(identity, project);
  if (project.status !== 'VENUES_CONFIRMED')
    throw conflict(
      `project ${project.code} is ${project.status}; its fee is advanced once its venues are confirmed (VENUES_CONFIRMED)`,
    );

  const live = (await deps.venues.bookingsOfProjects([project.id])).filter(
    (booking) => booking.status === 'HELD' || booking.status === 'CONFIRMED',
  );
  const unconfirmed = live.filter((booking) => booking.status !== 'CONFIRMED');
  if (unconfirmed.length > 0)
    throw conflict(
      `booking ${unconfirmed[0].id} of project ${project.code} is not confirmed yet; wait for its partner`,
    );
  if (live.filter((booking) => booking.role === 'MAIN').length !== 1)
    throw conflict(`project ${project.code} needs exactly one confirmed MAIN booking; arrange its venues again`);
  const rooms = new Map(
    (await deps.venues.roomsWithPlatform(live.map((booking) => booking.room_id))).map((room) => [room.id, room]),
  );
  const bookings: FeeBooking[] = live.map((booking) => ({
    bookingId: booking.id,
    role: booking.role,
    seats: booking.seats,
    platformId: rooms.get(booking.room_id)!.platform_id,
  }));
  // The rates in effect when the evaluation starts (MASTER-DATA.md): later versions never reach this fee.
  const versions = await deps.venues.feeRatesAt(
    [...new Set([project.host_platform_id, ...bookings.map((booking) => booking.platformId)])],
    project.evaluation_starts_at,
  );
  const rates = new Map<string, FeeRates>(
    versions.map((version) => [
      version.platform_id,
      { expertFeeRate: BigInt(version.expert_fee_rate), seatServiceFee: BigInt(version.seat_service_fee) },
    ]),
  );

  const fee = computeFeeAdvance({
    hostPlatformId: project.host_platform_id,
    committeeSize: project.committee_size,
    tendererRepresentatives: project.tenderer_representatives,
    startsAt: project.evaluation_starts_at,
    endsAt: project.evaluation_ends_at,
    bookings,
    rates,
  });
  const entries = feeAdvanceEntries(project, fee);
  return deps.projects.inTransaction(async (trx) => {
    const updated = await deps.projects.transitionIn(trx, project.id, {
      to: 'FEE_ADVANCED',
      from: ['VENUES_CONFIRMED'],
      kind: 'FEE_ADVANCED',
      actor: actorOf(identity),
      detail: `evaluation fee of ${formatYuan(fee.total)} CNY advanced for ${fee.halfDays} half day(s)`,
      data: {
        amount: fee.total.toString(),
        halfDays: fee.halfDays,
        lines: fee.lines.map((line) => ({
          bookingId: line.bookingId,
          role: line.role,
          platformId: line.platformId,
          expertSeats: line.expertSeats,
          expertRate: line.expertRate.toString(),
          expertFees: line.expertFees.toString(),
          serviceSeats: line.serviceSeats,
          seatServiceFee: line.seatServiceFee.toString(),
          serviceFees: line.serviceFees.toString(),
        })),
        ledger: ledgerEventData(entries),
      },
      set: { fee_advance: fee.total },
    });
    await insertLedgerEntriesIn(trx, project.id, entries);
    return updated;
  });
}
