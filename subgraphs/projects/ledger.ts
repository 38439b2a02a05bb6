// The fee ledger of the projects domain: entries written with the fee advance, reversed (never deleted) on cancellation,
// and the balance each platform holds with its partners.
import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Json } from '../../lib/canonical-json';
import { touched } from '../../lib/cache-tags';
import { noteChanged } from '../../lib/change-notes';
import { formatYuan, type FeeAdvance } from './fees';
import type { LedgerEntryTable, ProjectsDatabase } from './types';

export type LedgerEntry = Selectable<LedgerEntryTable>;

/** What reversing a project's ledger needs of the projects service (declared here, so the service may import this file). */
export interface LedgerKeeper {
  inTransaction<T>(work: (trx: Transaction<ProjectsDatabase>) => Promise<T>): Promise<T>;
  ledgerOf(projectIds: readonly string[]): Promise<LedgerEntry[]>;
  appendEvent(
    projectId: string,
    event: { kind: string; actor: string; detail?: string | null; data?: { [key: string]: Json }; key?: string },
  ): Promise<void>;
}

export const agencyParty = (org: string) => `agency:${org}`;
export const platformParty = (platformId: string) => `platform:${platformId}`;
const PLATFORM_PREFIX = 'platform:';

export interface NewLedgerEntry {
  id: string;
  kind: LedgerEntryTable['kind'];
  payer: string;
  payee: string;
  amount: bigint;
  reverses: string | null;
  detail: { [key: string]: Json };
}

/**
 * The entries of a fee advance: agency → host for the whole advance, host → each partner for what it is owed. Ids are
 * derived from the project, so a repeated step collides with the entries already written instead of charging twice.
 */
export function feeAdvanceEntries(
  project: { id: string; agency: string; host_platform_id: string },
  fee: FeeAdvance,
): NewLedgerEntry[] {
  const host = platformParty(project.host_platform_id);
  const entries: NewLedgerEntry[] = [];
  if (fee.total > 0n) {
    entries.push({
      id: `${project.id}:advance`,
      kind: 'FEE_ADVANCE',
      payer: agencyParty(project.agency),
      payee: host,
      amount: fee.total,
      reverses: null,
      detail: { halfDays: fee.halfDays },
    });
  }
  for (const [partnerId, amount] of fee.owedToPartners) {
    const lines = fee.lines.filter((line) => line.platformId === partnerId);
    entries.push({
      id: `${project.id}:payable:${partnerId}`,
      kind: 'PARTNER_PAYABLE',
      payer: host,
      payee: platformParty(partnerId),
      amount,
      reverses: null,
      detail: {
        halfDays: fee.halfDays,
        bookings: lines.map((line) => ({
          bookingId: line.bookingId,
          expertSeats: line.expertSeats,
          expertRate: line.expertRate.toString(),
          serviceSeats: line.serviceSeats,
          seatServiceFee: line.seatServiceFee.toString(),
        })),
      },
    });
  }
  return entries;
}

/** Describes entries for the project's timeline (and so its archive). */
export function ledgerEventData(entries: readonly NewLedgerEntry[]): Json[] {
  return entries.map((entry) => ({
    id: entry.id,
    kind: entry.kind,
    payer: entry.payer,
    payee: entry.payee,
    amount: entry.amount.toString(),
    reverses: entry.reverses,
  }));
}

export async function insertLedgerEntriesIn(
  trx: Transaction<ProjectsDatabase>,
  projectId: string,
  entries: readonly NewLedgerEntry[],
): Promise<void> {
  if (entries.length === 0) return;
  // The project's fee advance and balances are read from its ledger.
  noteChanged(touched('Project', projectId));
  await trx
    .insertInto('ledger_entry')
    .values(
      entries.map((entry) => ({
        id: entry.id,
        project_id: projectId,
        kind: entry.kind,
        payer: entry.payer,
        payee: entry.payee,
        amount: entry.amount,
        reverses: entry.reverses,
        detail: JSON.stringify(entry.detail),
        settled_at: null,
      })),
    )
    .execute();
}

export function ledgerOfProjects(db: Kysely<ProjectsDatabase>, projectIds: readonly string[]): Promise<LedgerEntry[]> {
  return db
    .selectFrom('ledger_entry')
    .selectAll()
    .where('project_id', 'in', [...projectIds])
    .orderBy('project_id')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/**
 * The compensating entries that cancel what a project's ledger still has open: every unsettled entry not yet reversed
 * gets a REVERSAL paying the same amount back between the same parties. Settled entries stay; settlement deals with them.
 * Read under the project's row lock (the caller's transaction), so two cancellations cannot both reverse.
 */
export async function compensatingEntriesIn(
  trx: Transaction<ProjectsDatabase>,
  projectId: string,
  reason: string,
): Promise<NewLedgerEntry[]> {
  const open = await trx
    .selectFrom('ledger_entry as entry')
    .selectAll('entry')
    .where('entry.project_id', '=', projectId)
    .where('entry.kind', '<>', 'REVERSAL')
    .where('entry.settled_at', 'is', null)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('ledger_entry as reversal').select('reversal.id').whereRef('reversal.reverses', '=', 'entry.id'),
        ),
      ),
    )
    .orderBy('entry.created_at')
    .orderBy('entry.id')
    .execute();
  return open.map((entry) => ({
    id: `${entry.id}:reversal`,
    kind: 'REVERSAL' as const,
    payer: entry.payee,
    payee: entry.payer,
    amount: BigInt(entry.amount),
    reverses: entry.id,
    detail: { reason },
  }));
}

export interface PartnerBalance {
  partnerId: string;
  /** What the platform owes the partner, net of what the partner owes it (zero when the partner owes). */
  payable: bigint;
  /** What the partner owes the platform, net. */
  receivable: bigint;
  entries: number;
}

/** The net of every unsettled entry between a platform and each other platform it has dealt with, by partner id. */
export async function partnerBalances(db: Kysely<ProjectsDatabase>, platformId: string): Promise<PartnerBalance[]> {
  const me = platformParty(platformId);
  const rows = await db
    .selectFrom('ledger_entry')
    .select([
      sql<string>`case when payer = ${me} then payee else payer end`.as('other'),
      sql<string>`sum(case when payee = ${me} then amount else -amount end)`.as('net'),
      sql<string>`count(*)`.as('entries'),
    ])
    .where('settled_at', 'is', null)
    .where((eb) => eb.or([eb('payer', '=', me), eb('payee', '=', me)]))
    .where('payer', 'like', `${PLATFORM_PREFIX}%`)
    .where('payee', 'like', `${PLATFORM_PREFIX}%`)
    .groupBy(sql`1`)
    .orderBy(sql`1`)
    .execute();
  return rows.map((row) => {
    const net = BigInt(row.net);
    return {
      partnerId: row.other.slice(PLATFORM_PREFIX.length),
      payable: net < 0n ? -net : 0n,
      receivable: net > 0n ? net : 0n,
      entries: Number(row.entries),
    };
  });
}

/**
 * After a cancellation: compensates every unsettled entry of the project not yet reversed (never deleting one), under
 * the project's row lock, then records the reversals on the timeline. Idempotent: a rerun finds nothing open, and the
 * event, keyed by project and derived from the reversals in the table, is recorded once even after a cut-short run.
 *
 * ```ts
 * await reverseOpenLedgerEntries(projects, 'prj_…', 'project cancelled: 招标文件修改');
 * ```
 */
export async function reverseOpenLedgerEntries(
  projects: LedgerKeeper,
  projectId: string,
  reason: string,
  actor = 'system:cancellation',
): Promise<number> {
  const added = await projects.inTransaction(async (trx) => {
    const project = await trx
      .selectFrom('project')
      .select(['status', 'code'])
      .where('id', '=', projectId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (project.status !== 'CANCELLED')
      throw new Error(`project ${project.code} is ${project.status}; only a cancelled project's ledger is reversed`);
    const compensations = await compensatingEntriesIn(trx, projectId, reason);
    await insertLedgerEntriesIn(trx, projectId, compensations);
    return compensations.length;
  });
  const reversals = (await projects.ledgerOf([projectId])).filter((entry) => entry.kind === 'REVERSAL');
  if (reversals.length > 0) {
    const total = reversals.reduce((sum, entry) => sum + BigInt(entry.amount), 0n);
    await projects.appendEvent(projectId, {
      kind: 'LEDGER_REVERSED',
      actor,
      detail: `${reversals.length} ledger entr${reversals.length === 1 ? 'y' : 'ies'} reversed by compensating entries (${formatYuan(total)} CNY): ${reason}`,
      data: {
        ledger: reversals.map((entry) => ({
          id: entry.id,
          kind: entry.kind,
          payer: entry.payer,
          payee: entry.payee,
          amount: String(entry.amount),
          reverses: entry.reverses,
        })),
      },
      key: `ledger_reversed:${projectId}`,
    });
  }
  return added;
}
