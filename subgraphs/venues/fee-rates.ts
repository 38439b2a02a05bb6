// Fee rates versioned by the instant they take effect (MASTER-DATA.md, PROVINCIAL_ADMIN): a platform's rates at an
// instant are those of its latest version whose effectiveFrom is not after it. A fee uses the rates in effect when its
// evaluation starts; a fee already advanced keeps the amounts its ledger recorded, whatever versions come later.
import { sql } from 'kysely';
import { badInput, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { recordVenuesChange } from './change-log';
import type { FeeRate, Platform, VenuesStore } from './types';

/** The most a rate may be, in fen (one million yuan per person or seat and half day): a typo's guard. */
export const MAX_RATE_FEN = 100_000_000n;

function checkRate(field: string, value: bigint): void {
  if (value < 0n) throw badInput(field, 'is negative; give a whole number of fen, 0 or more');
  if (value > MAX_RATE_FEN)
    throw badInput(field, `is ${value} fen, more than ${MAX_RATE_FEN} (one million yuan); give the rate in fen`);
}

const ratesFields = (row: Pick<FeeRate, 'expert_fee_rate' | 'seat_service_fee' | 'effective_from'>) => ({
  expertFeeRate: String(row.expert_fee_rate),
  seatServiceFee: String(row.seat_service_fee),
  effectiveFrom: row.effective_from.toISOString(),
});

/** Adds (or, at the same instant, replaces) a version of a platform's rates. */
export async function setFeeRates(
  store: VenuesStore,
  identity: Identity,
  args: { platformId: string; expertFeeRate: bigint; seatServiceFee: bigint; effectiveFrom: Date },
): Promise<Platform> {
  checkRate('expertFeeRate', args.expertFeeRate);
  checkRate('seatServiceFee', args.seatServiceFee);
  return store.db.transaction().execute(async (trx) => {
    const platform = await trx
      .selectFrom('platform')
      .selectAll()
      .where('id', '=', args.platformId)
      .forUpdate()
      .executeTakeFirst();
    if (!platform) throw notFound('platform', args.platformId);
    const before = await trx
      .selectFrom('fee_rate')
      .selectAll()
      .where('platform_id', '=', args.platformId)
      .where('effective_from', '=', args.effectiveFrom)
      .executeTakeFirst();
    if (
      before &&
      BigInt(before.expert_fee_rate) === args.expertFeeRate &&
      BigInt(before.seat_service_fee) === args.seatServiceFee
    )
      return platform;
    const after = await trx
      .insertInto('fee_rate')
      .values({
        platform_id: args.platformId,
        effective_from: args.effectiveFrom,
        expert_fee_rate: args.expertFeeRate,
        seat_service_fee: args.seatServiceFee,
      })
      .onConflict((oc) =>
        oc
          .columns(['platform_id', 'effective_from'])
          .doUpdateSet({ expert_fee_rate: args.expertFeeRate, seat_service_fee: args.seatServiceFee }),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordVenuesChange(trx, identity, {
      entityType: 'FeeRates',
      entityId: args.platformId,
      before: before ? ratesFields(before) : null,
      after: ratesFields(after),
    });
    return platform;
  });
}

/** Every version of each platform's rates, newest first. */
export function feeRateHistory({ db }: VenuesStore, platformIds: readonly string[]): Promise<FeeRate[]> {
  return db
    .selectFrom('fee_rate')
    .selectAll()
    .where('platform_id', 'in', [...platformIds])
    .orderBy('platform_id')
    .orderBy('effective_from', 'desc')
    .execute();
}

/** The version of each platform's rates in effect at `at` (a platform without one before `at` is left out). */
export function feeRatesAt({ db }: VenuesStore, platformIds: readonly string[], at: Date): Promise<FeeRate[]> {
  if (platformIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('fee_rate')
    .selectAll()
    .distinctOn('platform_id')
    .where('platform_id', 'in', [...platformIds])
    .where(sql<boolean>`effective_from <= ${at}`)
    .orderBy('platform_id')
    .orderBy('effective_from', 'desc')
    .execute();
}
