// The fee arithmetic of DOMAIN.md (Fees and settlement): half days in China Standard Time, 就高不就低, several partners.
import { computeFeeAdvance, halfDaysOverlapped, type FeeRates } from '../subgraphs/projects/fees';

const cst = (local: string) => new Date(`${local}+08:00`);

describe('halfDaysOverlapped', () => {
  const cases: [string, string, string, number][] = [
    ['a morning inside one half day', '2026-03-02T09:00:00', '2026-03-02T11:30:00', 1],
    ['a window ending exactly at noon', '2026-03-02T08:00:00', '2026-03-02T12:00:00', 1],
    ['a window starting exactly at noon', '2026-03-02T12:00:00', '2026-03-02T17:00:00', 1],
    ['a window across noon', '2026-03-02T09:00:00', '2026-03-02T17:00:00', 2],
    ['one minute either side of noon', '2026-03-02T11:59:00', '2026-03-02T12:01:00', 2],
    ['an afternoon running past midnight', '2026-03-02T14:00:00', '2026-03-03T01:00:00', 2],
    ['a whole day from midnight to midnight', '2026-03-02T00:00:00', '2026-03-03T00:00:00', 2],
    ['two days and a morning', '2026-03-02T08:00:00', '2026-03-04T10:00:00', 5],
    ['a single millisecond', '2026-03-02T23:59:59.999', '2026-03-03T00:00:00', 1],
  ];
  it.each(cases)('charges %s', (_name, from, to, expected) => {
    expect(halfDaysOverlapped(cst(from), cst(to))).toBe(expected);
  });

  it('counts in China Standard Time, not UTC: 03:00-05:00 UTC crosses noon in CST', () => {
    expect(halfDaysOverlapped(new Date('2026-03-02T03:00:00Z'), new Date('2026-03-02T05:00:00Z'))).toBe(2);
    // 15:00-17:00 UTC crosses midnight in CST (23:00-01:00).
    expect(halfDaysOverlapped(new Date('2026-03-02T15:00:00Z'), new Date('2026-03-02T17:00:00Z'))).toBe(2);
    // 17:00-03:00 UTC is 01:00-11:00 CST, one morning, though it crosses midnight UTC.
    expect(halfDaysOverlapped(new Date('2026-03-02T17:00:00Z'), new Date('2026-03-03T03:00:00Z'))).toBe(1);
  });

  it('refuses an empty or reversed window', () => {
    expect(() => halfDaysOverlapped(cst('2026-03-02T09:00:00'), cst('2026-03-02T09:00:00'))).toThrow(RangeError);
    expect(() => halfDaysOverlapped(cst('2026-03-02T10:00:00'), cst('2026-03-02T09:00:00'))).toThrow(RangeError);
  });
});

describe('computeFeeAdvance', () => {
  const HOST = '411700';
  const rates = new Map<string, FeeRates>([
    [HOST, { expertFeeRate: 50_000n, seatServiceFee: 6_000n }],
    ['411721', { expertFeeRate: 40_000n, seatServiceFee: 5_000n }], // cheaper than the host
    ['410100', { expertFeeRate: 60_000n, seatServiceFee: 7_500n }], // dearer than the host
    ['411300', { expertFeeRate: 55_000n, seatServiceFee: 9_000n }],
  ]);
  const morningAndAfternoon = { startsAt: cst('2026-03-02T09:00:00'), endsAt: cst('2026-03-02T17:00:00') };

  it('pays experts at a cheaper partner at the host rate and at a dearer partner at the partner rate (就高不就低)', () => {
    const fee = computeFeeAdvance({
      hostPlatformId: HOST,
      committeeSize: 7,
      tendererRepresentatives: 1,
      ...morningAndAfternoon,
      bookings: [
        { bookingId: 'main', role: 'MAIN', seats: 12, platformId: HOST },
        { bookingId: 'county', role: 'SECONDARY', seats: 2, platformId: '411721' },
        { bookingId: 'city', role: 'SECONDARY', seats: 1, platformId: '410100' },
      ],
      rates,
    });
    expect(fee.halfDays).toBe(2);
    // main: 6 drawn experts - 3 secondary seats = 3 experts at the host's 500 CNY, 2 half days.
    expect(fee.lines[0]).toMatchObject({
      expertSeats: 3,
      expertRate: 50_000n,
      expertFees: 300_000n,
      serviceSeats: 0,
      serviceFees: 0n,
    });
    // county: cheaper rate, so the host's; plus its own service fee per seat.
    expect(fee.lines[1]).toMatchObject({
      expertSeats: 2,
      expertRate: 50_000n,
      expertFees: 200_000n,
      serviceSeats: 2,
      seatServiceFee: 5_000n,
      serviceFees: 20_000n,
    });
    // city: dearer rate, so its own.
    expect(fee.lines[2]).toMatchObject({
      expertSeats: 1,
      expertRate: 60_000n,
      expertFees: 120_000n,
      serviceSeats: 1,
      serviceFees: 15_000n,
    });
    expect(fee.total).toBe(300_000n + 220_000n + 135_000n);
    expect([...fee.owedToPartners]).toEqual([
      ['411721', 220_000n],
      ['410100', 135_000n],
    ]);
  });

  it('adds up several bookings at the same partner and keeps the host out of what partners are owed', () => {
    const fee = computeFeeAdvance({
      hostPlatformId: HOST,
      committeeSize: 9,
      tendererRepresentatives: 0,
      startsAt: cst('2026-03-02T14:00:00'),
      endsAt: cst('2026-03-03T13:00:00'), // the afternoon (to midnight), the next morning and a bit of its afternoon: 3
      bookings: [
        { bookingId: 'main', role: 'MAIN', seats: 9, platformId: HOST },
        { bookingId: 'a', role: 'SECONDARY', seats: 2, platformId: '411300' },
        { bookingId: 'b', role: 'SECONDARY', seats: 3, platformId: '411300' },
      ],
      rates,
    });
    expect(fee.halfDays).toBe(3);
    expect(fee.lines[0].expertSeats).toBe(4);
    const partner = 5n * 55_000n * 3n + 5n * 9_000n * 3n;
    expect(fee.owedToPartners).toEqual(new Map([['411300', partner]]));
    expect(fee.total).toBe(4n * 50_000n * 3n + partner);
  });

  it('seats no experts at the main venue when the secondary seats take them all, never a negative count', () => {
    const fee = computeFeeAdvance({
      hostPlatformId: HOST,
      committeeSize: 5,
      tendererRepresentatives: 1,
      ...morningAndAfternoon,
      bookings: [
        { bookingId: 'main', role: 'MAIN', seats: 9, platformId: HOST },
        { bookingId: 'a', role: 'SECONDARY', seats: 6, platformId: '411721' },
      ],
      rates,
    });
    expect(fee.lines[0]).toMatchObject({ expertSeats: 0, expertFees: 0n });
    expect(fee.total).toBe(6n * 50_000n * 2n + 6n * 5_000n * 2n);
  });

  it('stays exact beyond 2^53 fen', () => {
    const huge = new Map<string, FeeRates>([[HOST, { expertFeeRate: 9_000_000_000_000_000n, seatServiceFee: 0n }]]);
    const fee = computeFeeAdvance({
      hostPlatformId: HOST,
      committeeSize: 5,
      tendererRepresentatives: 0,
      ...morningAndAfternoon,
      bookings: [{ bookingId: 'main', role: 'MAIN', seats: 9, platformId: HOST }],
      rates: huge,
    });
    expect(fee.total).toBe(90_000_000_000_000_000n);
  });

  it('refuses bookings without exactly one MAIN, and platforms without rates', () => {
    const base = { hostPlatformId: HOST, committeeSize: 5, tendererRepresentatives: 0, ...morningAndAfternoon, rates };
    expect(() =>
      computeFeeAdvance({ ...base, bookings: [{ bookingId: 'a', role: 'SECONDARY', seats: 2, platformId: '411721' }] }),
    ).toThrow(/one MAIN/);
    expect(() =>
      computeFeeAdvance({ ...base, bookings: [{ bookingId: 'm', role: 'MAIN', seats: 2, platformId: '419999' }] }),
    ).toThrow(/no rates/);
  });
});
