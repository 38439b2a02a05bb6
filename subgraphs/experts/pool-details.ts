// What an expert's record holds beyond the import's files (MASTER-DATA.md, "Bulk import"): a phone for invitations,
// the supervision post that makes an expert staff of a department (avoidance ground 4), past board seats (ground 2)
// and penalties with the dates they were imposed (ground 5). The demo seed loads its pool through the import and
// these through here. Idempotent like the import: matched by expert code, and board seats by (expert, organisation,
// from), penalties by (expert, imposed on, reason), so the same details again write nothing. One audited change.
import { sql, type Kysely, type Transaction } from 'kysely';
import { hubError } from '../../lib/errors';
import type { Department } from '../../lib/identity';
import { recordMasterDataChange, type ChangeActor } from '../../lib/master-data-audit';
import type { ExpertsDatabase } from './types';

export interface PoolDetails {
  phones?: { code: string; phone: string }[];
  /** Staff of a supervising department in a region: drawn for none of that department's projects there. */
  supervision?: { code: string; department: Department; region: string }[];
  /** Board seats, dates `YYYY-MM-DD`, `to` null while held. */
  boardSeats?: { code: string; organisation: string; from: string; to: string | null }[];
  /** Penalties for bidding offences, `until` null for open-ended ones. */
  penalties?: { code: string; reason: string; imposedOn: string; until: string | null }[];
}

export interface PoolDetailsReport {
  phones: number;
  supervision: number;
  boardSeats: number;
  penalties: number;
  /** The audited change written, when anything changed. */
  changeId: string | null;
}

/** Codes named by the details that no expert of the pool has. */
async function unknownCodes(trx: Transaction<ExpertsDatabase>, details: PoolDetails): Promise<string[]> {
  const codes = [
    ...new Set(
      [
        ...(details.phones ?? []),
        ...(details.supervision ?? []),
        ...(details.boardSeats ?? []),
        ...(details.penalties ?? []),
      ].map((row) => row.code),
    ),
  ];
  if (codes.length === 0) return [];
  const { rows } = await sql<{ code: string }>`
    select wanted.code from unnest(${codes}::text[]) as wanted(code)
    where not exists (select 1 from expert e where e.code = wanted.code)`.execute(trx);
  return rows.map((row) => row.code);
}

const changed = (result: { numAffectedRows?: bigint }) => Number(result.numAffectedRows ?? 0n);

/**
 * Writes the details that differ from the pool's, all or nothing; an unknown expert code is BAD_USER_INPUT naming it.
 *
 * ```ts
 * await recordPoolDetails(db, { penalties: [{ code: 'HN-E-00042', reason: '…', imposedOn: '2026-03-02', until: null }] }, actor);
 * ```
 */
export async function recordPoolDetails(
  db: Kysely<ExpertsDatabase>,
  details: PoolDetails,
  actor: ChangeActor,
): Promise<PoolDetailsReport> {
  return db.transaction().execute(async (trx) => {
    // The same lock as the import: details never interleave with an import of the same experts.
    await sql`select pg_advisory_xact_lock(hashtext('experts.pool-import'))`.execute(trx);
    const unknown = await unknownCodes(trx, details);
    if (unknown.length > 0)
      throw hubError(
        'BAD_USER_INPUT',
        `no expert with code ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ` and ${unknown.length - 10} more` : ''} in the pool; import the experts first`,
        { field: 'code' },
      );
    const phones = details.phones ?? [];
    const supervision = details.supervision ?? [];
    const boardSeats = details.boardSeats ?? [];
    const penalties = details.penalties ?? [];
    const report: PoolDetailsReport = { phones: 0, supervision: 0, boardSeats: 0, penalties: 0, changeId: null };
    if (phones.length > 0)
      report.phones = changed(
        await sql`
          update expert e set phone = t.phone
          from unnest(${phones.map((r) => r.code)}::text[], ${phones.map((r) => r.phone)}::text[]) as t(code, phone)
          where e.code = t.code and e.phone is distinct from t.phone`.execute(trx),
      );
    if (supervision.length > 0)
      report.supervision = changed(
        await sql`
          update expert e set supervision_department = t.department, supervision_region = t.region
          from unnest(${supervision.map((r) => r.code)}::text[], ${supervision.map((r) => r.department)}::text[],
                      ${supervision.map((r) => r.region)}::text[]) as t(code, department, region)
          where e.code = t.code
            and (e.supervision_department, e.supervision_region) is distinct from (t.department, t.region)`.execute(
          trx,
        ),
      );
    if (boardSeats.length > 0)
      report.boardSeats = changed(
        await sql`
          insert into employment (expert_id, organisation, relation, started_on, ended_on)
          select e.id, t.organisation, 'BOARD_MEMBER', t.started_on, t.ended_on
          from unnest(${boardSeats.map((r) => r.code)}::text[], ${boardSeats.map((r) => r.organisation)}::text[],
                      ${boardSeats.map((r) => r.from)}::date[], ${boardSeats.map((r) => r.to)}::date[])
                 with ordinality as t(code, organisation, started_on, ended_on, n)
          join expert e on e.code = t.code
          where not exists (select 1 from employment m where m.expert_id = e.id and m.relation = 'BOARD_MEMBER'
                              and m.organisation = t.organisation and m.started_on = t.started_on)
          order by t.n`.execute(trx),
      );
    if (penalties.length > 0)
      report.penalties = changed(
        await sql`
          insert into penalty (expert_id, reason, imposed_on, until)
          select e.id, t.reason, t.imposed_on, t.until
          from unnest(${penalties.map((r) => r.code)}::text[], ${penalties.map((r) => r.reason)}::text[],
                      ${penalties.map((r) => r.imposedOn)}::date[], ${penalties.map((r) => r.until)}::date[])
                 with ordinality as t(code, reason, imposed_on, until, n)
          join expert e on e.code = t.code
          where not exists (select 1 from penalty p where p.expert_id = e.id and p.imposed_on = t.imposed_on
                              and p.reason = t.reason)
          order by t.n`.execute(trx),
      );
    if (report.phones + report.supervision + report.boardSeats + report.penalties === 0) return report;
    // Counts only: phones, posts and penalties of named experts are sealed data.
    report.changeId = await recordMasterDataChange(trx, {
      actor,
      entityType: 'ExpertDetails',
      entityId: 'pool',
      before: null,
      after: {
        phones: report.phones,
        supervision: report.supervision,
        boardSeats: report.boardSeats,
        penalties: report.penalties,
      },
    });
    return report;
  });
}
