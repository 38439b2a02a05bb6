// The sealed-read audit: every allowed read of a sealed field (who sits on a committee) is written down, counted per
// actor, seat, field and minute, and read back by the project's supervisors.
import { sql } from 'kysely';
import type { ExpertsCore, SealedAccess, SealedRead } from './core';

/**
 * Writes allowed reads of sealed fields to the access audit, one row per (actor, seat, field, minute) counting its
 * reads: repeated reads (aliases, pages, polling) add to the row's count instead of adding rows, so an audit grows
 * with the minutes someone reads, not with the size of their queries (SECURITY.md).
 */
export async function recordSealedReads(core: ExpertsCore, reads: readonly SealedRead[]): Promise<void> {
  if (reads.length === 0) return;
  const now = core.clock.now();
  const minute = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  // One statement cannot update a row twice: the reads of one batch are counted per key first.
  const rows = new Map<string, SealedRead & { reads: number }>();
  for (const read of reads) {
    const key = JSON.stringify([read.actor, read.drawId, read.seatId, read.field]);
    const row = rows.get(key);
    if (row) row.reads += 1;
    else rows.set(key, { ...read, reads: 1 });
  }
  await core.db
    .insertInto('sealed_access')
    .values(
      [...rows.values()].map((read) => ({
        at: now,
        last_at: now,
        minute,
        reads: read.reads,
        actor: read.actor,
        role: read.role,
        field: read.field,
        project_id: read.projectId,
        draw_id: read.drawId,
        seat_id: read.seatId,
        expert_id: read.expertId,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(['actor', 'draw_id', 'seat_id', 'field', 'minute'])
        .where('minute', 'is not', null)
        .doUpdateSet((eb) => ({
          reads: sql<number>`${eb.ref('sealed_access.reads')} + ${eb.ref('excluded.reads')}`,
          last_at: eb.ref('excluded.last_at'),
        })),
    )
    .execute();
}

/** The access audit of a project, oldest first. */
export function accessAuditOfProject(core: ExpertsCore, projectId: string): Promise<SealedAccess[]> {
  return core.db
    .selectFrom('sealed_access')
    .selectAll()
    .where('project_id', '=', projectId)
    .orderBy('at')
    .orderBy('id')
    .execute();
}
