// The venues domain's change records (MASTER-DATA.md, "Audited"): every master-data change of this domain writes one
// in its own transaction, and the experts subgraph's masterDataChanges reads them through the domain's door
// (VenuesService.masterDataChanges), merged with the pool's. Venue records hold master data only (addresses, rates,
// agreements): nothing in them is sealed.
import type { Transaction } from 'kysely';
import type { Identity } from '../../lib/identity';
import { actorOf, recordMasterDataChange, type ChangeFields } from '../../lib/master-data-audit';
import { masterDataChangeSlice, type ChangeFilter, type ChangePage, type ChangeSlice } from '../../lib/master-data-log';
import type { VenuesDatabase, VenuesStore } from './types';

export type VenuesEntityType =
  'Venue' | 'EvaluationRoom' | 'RoomBlock' | 'Platform' | 'CooperationAgreement' | 'FeeRates';

/** One change of this domain, recorded inside the change's transaction. */
export function recordVenuesChange(
  trx: Transaction<VenuesDatabase>,
  identity: Identity,
  change: { entityType: VenuesEntityType; entityId: string; before: ChangeFields | null; after: ChangeFields | null },
): Promise<string> {
  return recordMasterDataChange(trx, { actor: actorOf(identity), ...change });
}

/** A slice of this domain's change records after a position, newest first. */
export function masterDataChanges({ db }: VenuesStore, filter: ChangeFilter, page: ChangePage): Promise<ChangeSlice> {
  return masterDataChangeSlice(db, filter, page);
}
