// Cooperation agreements (MASTER-DATA.md, PROVINCIAL_ADMIN): `platformId` may book `partnerId`'s rooms and seat its
// experts. Setting one is an upsert; ending one removes it, so arrangeVenues refuses new holds on the partner's rooms
// (directory.roomsForArrangement, booking-saga's hold read the table), while bookings already made stand.
import { badInput, conflict, notFound } from '../../lib/errors';
import type { Identity } from '../../lib/identity';
import { recordVenuesChange } from './change-log';
import type { Agreement, Platform, VenuesStore } from './types';

const agreementId = (platformId: string, partnerId: string) => `${platformId}/${partnerId}`;

async function requirePlatforms(store: VenuesStore, ids: readonly string[]): Promise<Platform[]> {
  const found = await store.db
    .selectFrom('platform')
    .selectAll()
    .where('id', 'in', [...ids])
    .execute();
  for (const [index, id] of ids.entries())
    if (!found.some((platform) => platform.id === id)) throw notFound(index === 0 ? 'platform' : 'partner', id);
  return found;
}

export async function setCooperationAgreement(
  store: VenuesStore,
  identity: Identity,
  platformId: string,
  partnerId: string,
  autoConfirm: boolean,
): Promise<Agreement> {
  if (platformId === partnerId)
    throw badInput('partnerId', `is the platform itself (${platformId}); a platform books its own rooms without one`);
  await requirePlatforms(store, [platformId, partnerId]);
  return store.db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('cooperation_agreement')
      .selectAll()
      .where('platform_id', '=', platformId)
      .where('partner_id', '=', partnerId)
      .forUpdate()
      .executeTakeFirst();
    if (before?.auto_confirm === autoConfirm) return before;
    const after = await trx
      .insertInto('cooperation_agreement')
      .values({ platform_id: platformId, partner_id: partnerId, auto_confirm: autoConfirm })
      .onConflict((oc) => oc.columns(['platform_id', 'partner_id']).doUpdateSet({ auto_confirm: autoConfirm }))
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordVenuesChange(trx, identity, {
      entityType: 'CooperationAgreement',
      entityId: agreementId(platformId, partnerId),
      before: before ? { platformId, partnerId, autoConfirm: before.auto_confirm } : null,
      after: { platformId, partnerId, autoConfirm },
    });
    return after;
  });
}

export async function endCooperationAgreement(
  store: VenuesStore,
  identity: Identity,
  platformId: string,
  partnerId: string,
): Promise<Platform> {
  const [platform] = (await requirePlatforms(store, [platformId, partnerId])).filter((row) => row.id === platformId);
  return store.db.transaction().execute(async (trx) => {
    const ended = await trx
      .deleteFrom('cooperation_agreement')
      .where('platform_id', '=', platformId)
      .where('partner_id', '=', partnerId)
      .returningAll()
      .executeTakeFirst();
    if (!ended)
      throw conflict(`platform ${platformId} has no cooperation agreement with ${partnerId}; there is nothing to end`);
    await recordVenuesChange(trx, identity, {
      entityType: 'CooperationAgreement',
      entityId: agreementId(platformId, partnerId),
      before: { platformId, partnerId, autoConfirm: ended.auto_confirm },
      after: null,
    });
    return platform;
  });
}
