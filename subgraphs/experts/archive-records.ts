// What the experts domain gives a project's archive: every draw of the project (failed ones too), oldest first.
import type { Kysely } from 'kysely';
import type { Draw, ExpertsService } from './service';
import type { ExpertsDatabase } from './types';

/**
 * Every draw of a project, in the order requested: the archive keeps failed draws too, since their rounds used the
 * stream and a verifier recomputes them.
 */
export function drawsOfProject(experts: ExpertsService, projectId: string): Promise<Draw[]> {
  const db: Kysely<ExpertsDatabase> = experts.db;
  return db.selectFrom('draw').selectAll().where('project_id', '=', projectId).orderBy('requested_at').orderBy('id').execute();
}
