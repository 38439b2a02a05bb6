// The evaluation fee (DOMAIN.md, Fees and settlement): half days in China Standard Time and the advance, in integer fen.

import { CHINA_OFFSET_MS } from '../../lib/china-time';

const HALF_DAY_MS = 12 * 3_600_000;

/**
 * The half days (a morning before 12:00 or an afternoon from 12:00, China Standard Time) that the window [starts, ends)
 * overlaps; each is charged in full however little of it the window takes.
 *
 * ```ts
 * halfDaysOverlapped(new Date('2026-03-02T09:00:00+08:00'), new Date('2026-03-02T17:00:00+08:00')) === 2
 * ```
 */
export function halfDaysOverlapped(starts: Date, ends: Date): number {
  const from = starts.getTime();
  const to = ends.getTime();
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new RangeError('the window needs real dates');
  if (to <= from) throw new RangeError('the window must end after it starts');
  // Half days are numbered from the epoch in CST; the window takes every one from its start's to its last instant's.
  const first = Math.floor((from + CHINA_OFFSET_MS) / HALF_DAY_MS);
  const last = Math.ceil((to + CHINA_OFFSET_MS) / HALF_DAY_MS) - 1;
  return last - first + 1;
}

export interface FeeRates {
  /** Per expert per half day, fen. */
  expertFeeRate: bigint;
  /** Per secondary seat per half day, fen. */
  seatServiceFee: bigint;
}

export interface FeeBooking {
  bookingId: string;
  role: 'MAIN' | 'SECONDARY';
  seats: number;
  /** The platform of the booked room: its experts sit there, it is owed for them. */
  platformId: string;
}

export interface FeeAdvanceInput {
  hostPlatformId: string;
  committeeSize: number;
  tendererRepresentatives: number;
  startsAt: Date;
  endsAt: Date;
  /** The project's live bookings: one MAIN and any number of SECONDARY. */
  bookings: readonly FeeBooking[];
  /** Rates of the host and of every booked room's platform. */
  rates: ReadonlyMap<string, FeeRates>;
}

export interface FeeLine {
  bookingId: string;
  role: 'MAIN' | 'SECONDARY';
  platformId: string;
  expertSeats: number;
  /** The higher of the host's rate and the rate of the platform whose experts sit here (就高不就低). */
  expertRate: bigint;
  expertFees: bigint;
  serviceSeats: number;
  seatServiceFee: bigint;
  serviceFees: bigint;
}

export interface FeeAdvance {
  halfDays: number;
  lines: FeeLine[];
  total: bigint;
  /** What the host owes each other platform (the experts it seats and the seats it provides), by platform id, only positive amounts. */
  owedToPartners: Map<string, bigint>;
}

function ratesOf(rates: ReadonlyMap<string, FeeRates>, platformId: string): FeeRates {
  const found = rates.get(platformId);
  if (!found) throw new RangeError(`no rates are known for platform ${platformId}`);
  return found;
}

/**
 * Computes the advance of a project's evaluation fee from its bookings and the platforms' rates. The draw's seat plan is
 * not known yet, so each SECONDARY booking seats as many experts as it has seats, and the MAIN booking the drawn experts
 * (committeeSize - tendererRepresentatives) left over, never fewer than none.
 *
 * ```ts
 * computeFeeAdvance({ hostPlatformId: '411700', committeeSize: 5, tendererRepresentatives: 0, startsAt, endsAt,
 *   bookings: [{ bookingId: 'b1', role: 'MAIN', seats: 9, platformId: '411700' }], rates }).total
 * ```
 */
export function computeFeeAdvance(input: FeeAdvanceInput): FeeAdvance {
  const halfDays = halfDaysOverlapped(input.startsAt, input.endsAt);
  const mains = input.bookings.filter((booking) => booking.role === 'MAIN');
  if (mains.length !== 1) throw new RangeError(`a project has exactly one MAIN booking; found ${mains.length}`);
  for (const booking of input.bookings) {
    if (!Number.isInteger(booking.seats) || booking.seats < 0)
      throw new RangeError(`booking ${booking.bookingId} has an invalid seat count`);
  }
  const drawnExperts = input.committeeSize - input.tendererRepresentatives;
  const secondarySeats = input.bookings
    .filter((booking) => booking.role === 'SECONDARY')
    .reduce((sum, booking) => sum + booking.seats, 0);
  const host = ratesOf(input.rates, input.hostPlatformId);
  const perHalfDay = BigInt(halfDays);

  const lines = input.bookings.map((booking): FeeLine => {
    const venue = ratesOf(input.rates, booking.platformId);
    const expertSeats = booking.role === 'MAIN' ? Math.max(0, drawnExperts - secondarySeats) : booking.seats;
    const expertRate = venue.expertFeeRate > host.expertFeeRate ? venue.expertFeeRate : host.expertFeeRate;
    const serviceSeats = booking.role === 'SECONDARY' ? booking.seats : 0;
    return {
      bookingId: booking.bookingId,
      role: booking.role,
      platformId: booking.platformId,
      expertSeats,
      expertRate,
      expertFees: BigInt(expertSeats) * expertRate * perHalfDay,
      serviceSeats,
      seatServiceFee: venue.seatServiceFee,
      serviceFees: BigInt(serviceSeats) * venue.seatServiceFee * perHalfDay,
    };
  });

  let total = 0n;
  const owedToPartners = new Map<string, bigint>();
  for (const line of lines) {
    const amount = line.expertFees + line.serviceFees;
    total += amount;
    if (line.platformId !== input.hostPlatformId && amount > 0n)
      owedToPartners.set(line.platformId, (owedToPartners.get(line.platformId) ?? 0n) + amount);
  }
  return { halfDays, lines, total, owedToPartners };
}

/**
 * Fen as yuan for people to read, exactly (no floats).
 *
 * ```ts
 * formatYuan(123456n) === '1234.56'
 * ```
 */
export function formatYuan(fen: bigint): string {
  const sign = fen < 0n ? '-' : '';
  const magnitude = fen < 0n ? -fen : fen;
  return `${sign}${magnitude / 100n}.${(magnitude % 100n).toString().padStart(2, '0')}`;
}
