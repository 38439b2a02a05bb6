// The experts domain: the province-wide pool, committee draws and the seats they fill.
import { sql, type Kysely, type Selectable } from 'kysely';
import type { Clock } from '../../lib/clock';
import { decodeCursor, pageSize, toConnection, type Connection } from '../../lib/pagination';
import type { CommitteeSeatTable, DrawTable, ExpertsDatabase, ExpertTable } from './types';

export type Expert = Selectable<ExpertTable>;
export type Draw = Selectable<DrawTable>;
export type CommitteeSeat = Selectable<CommitteeSeatTable>;

export class ExpertsService {
  constructor(
    readonly db: Kysely<ExpertsDatabase>,
    readonly clock: Clock,
  ) {}

  expertsByIds(ids: readonly string[]): Promise<Expert[]> {
    return this.db.selectFrom('expert').selectAll().where('id', 'in', [...ids]).execute();
  }

  /** Pool administration: the experts whose home platform is `platformId`, optionally of one specialty, by code. */
  async listExperts(args: { platformId: string; specialty?: string | null; first?: number | null; after?: string | null }): Promise<Connection<Expert>> {
    const limit = pageSize(args.first);
    const cursor = decodeCursor(args.after, 1);
    let query = this.db.selectFrom('expert').where('home_platform_id', '=', args.platformId);
    if (args.specialty) query = query.where(sql<boolean>`specialties @> array[${args.specialty}]::text[]`);
    const total = await query.select((eb) => eb.fn.countAll<string>().as('count')).executeTakeFirstOrThrow();
    let page = query.selectAll();
    if (cursor) page = page.where('code', '>', String(cursor[0]));
    const rows = await page.orderBy('code').limit(limit + 1).execute();
    return toConnection(rows, limit, Number(total.count), (row) => [row.code]);
  }

  drawsByIds(ids: readonly string[]): Promise<Draw[]> {
    return this.db.selectFrom('draw').selectAll().where('id', 'in', [...ids]).execute();
  }

  /** The latest draw of each project. */
  latestDrawsOfProjects(projectIds: readonly string[]): Promise<Draw[]> {
    return this.db
      .selectFrom('draw')
      .selectAll()
      .distinctOn('project_id')
      .where('project_id', 'in', [...projectIds])
      .orderBy('project_id')
      .orderBy('requested_at', 'desc')
      .orderBy('id', 'desc')
      .execute();
  }

  seatsByIds(ids: readonly string[]): Promise<CommitteeSeat[]> {
    return this.db.selectFrom('committee_seat').selectAll().where('id', 'in', [...ids]).execute();
  }

  seatsOfDraws(drawIds: readonly string[]): Promise<CommitteeSeat[]> {
    return this.db
      .selectFrom('committee_seat')
      .selectAll()
      .where('draw_id', 'in', [...drawIds])
      .orderBy('draw_id')
      .orderBy('room_id')
      .orderBy('specialty')
      .orderBy('round')
      .orderBy('id')
      .execute();
  }

  async ready(): Promise<boolean> {
    await sql`select 1`.execute(this.db);
    return true;
  }
}
