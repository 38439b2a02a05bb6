// The demo data: deterministic, within the documented ranges, and accepted by the real schemas' constraints.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrateDomain, openDomainDatabase, type DomainDatabase } from '../lib/db';
import { generateDemoData, isDatabaseEmpty, seedDemoData, SPECIALTIES, type DemoData } from '../app/seed';
import { parseCsv } from '../lib/csv';
import { systemClock } from '../lib/clock';
import { ExpertsService } from '../subgraphs/experts';
import { HENAN_CITIES, ZHUMADIAN, ZHUMADIAN_COUNTIES } from '../app/seed/henan';
import { eventHash } from '../subgraphs/projects/service';
import { expertsMigrations } from '../subgraphs/experts/migrations';
import { projectsMigrations } from '../subgraphs/projects/migrations';
import { venuesMigrations, type VenuesDatabase } from '../subgraphs/venues';
import type { ExpertsDatabase } from '../subgraphs/experts/types';
import type { ProjectsDatabase } from '../subgraphs/projects/types';

const digest = (data: DemoData): string => createHash('sha256').update(JSON.stringify(data)).digest('hex');

describe('generateDemoData', () => {
  const data = generateDemoData();

  it('gives the same rows every time for the same seed, and other rows for another seed', () => {
    expect(digest(generateDemoData())).toBe(digest(data));
    expect(digest(generateDemoData({ seed: 7 }))).not.toBe(digest(data));
  });

  it('makes a platform for the province, every city and every Zhumadian county', () => {
    const { platform } = data.venues;
    expect(platform).toHaveLength(1 + HENAN_CITIES.length + ZHUMADIAN_COUNTIES.length);
    expect(platform.find((p) => p.id === ZHUMADIAN)).toMatchObject({
      name: '驻马店市公共资源交易中心',
      name_en: 'Zhumadian Public Resource Trading Center',
      level: 'CITY',
      parent_id: '410000',
    });
    expect(platform.find((p) => p.id === '419001')?.level).toBe('CITY');
    expect(platform.filter((p) => p.level === 'COUNTY').every((p) => p.parent_id === ZHUMADIAN)).toBe(true);
    for (const p of platform) {
      expect(Number(p.expert_fee_rate)).toBeGreaterThanOrEqual(40_000);
      expect(Number(p.expert_fee_rate)).toBeLessThanOrEqual(60_000);
      expect(Number(p.seat_service_fee)).toBeGreaterThanOrEqual(5_000);
      expect(Number(p.seat_service_fee)).toBeLessThanOrEqual(10_000);
    }
    expect(new Set(platform.map((p) => p.expert_fee_rate)).size).toBeGreaterThan(5);
  });

  it('gives cities 2-4 rooms of 5-9 seats and counties 1-2 rooms of 3-5 seats, with a seat row per seat', () => {
    const { platform, venue, room, seat } = data.venues;
    for (const p of platform) {
      const venues = venue.filter((v) => v.platform_id === p.id);
      expect(venues).toHaveLength(1);
      const rooms = room.filter((r) => r.venue_id === venues[0].id);
      const [minRooms, maxRooms, minSeats, maxSeats] = p.level === 'COUNTY' ? [1, 2, 3, 5] : [2, 4, 5, 9];
      expect(rooms.length).toBeGreaterThanOrEqual(minRooms);
      expect(rooms.length).toBeLessThanOrEqual(maxRooms);
      for (const r of rooms) {
        expect(r.seats).toBeGreaterThanOrEqual(minSeats);
        expect(r.seats).toBeLessThanOrEqual(maxSeats);
        expect(seat.filter((s) => s.room_id === r.id).map((s) => s.seat_no)).toEqual(
          Array.from({ length: r.seats }, (_, i) => i + 1),
        );
      }
      expect(rooms.some((r) => r.video_terminal)).toBe(true);
    }
  });

  it('links Zhumadian with every city (manual confirmation) and its counties (automatic), both ways', () => {
    const agreements = data.venues.cooperation_agreement;
    const autoConfirm = (from: string, to: string): boolean | undefined =>
      agreements.find((a) => a.platform_id === from && a.partner_id === to)?.auto_confirm;
    for (const county of ZHUMADIAN_COUNTIES) {
      expect(autoConfirm(ZHUMADIAN, county.code)).toBe(true);
      expect(autoConfirm(county.code, ZHUMADIAN)).toBe(true);
    }
    for (const city of HENAN_CITIES.filter((c) => c.code !== ZHUMADIAN)) {
      expect(autoConfirm(ZHUMADIAN, city.code)).toBe(false);
      expect(autoConfirm(city.code, ZHUMADIAN)).toBe(false);
    }
    expect(autoConfirm('410100', '410200')).toBe(false);
    expect(autoConfirm('410200', '410100')).toBe(false);
    expect(new Set(agreements.map((a) => `${a.platform_id}>${a.partner_id}`)).size).toBe(agreements.length);
  });

  it('fills a pool of about 3,000 experts over the city and county platforms', () => {
    const { expert, employment, penalty } = data.experts;
    expect(expert).toHaveLength(3000);
    expect(new Set(expert.map((e) => e.code)).size).toBe(3000);
    expect(expert.every((e) => e.home_platform_id !== '410000' && /^139\d{8}$/.test(e.phone))).toBe(true);
    const specialties = expert.flatMap((e) => e.specialties);
    expect(specialties.every((s) => (SPECIALTIES as readonly string[]).includes(s))).toBe(true);
    const count = (s: string): number => specialties.filter((x) => x === s).length;
    expect(count('CIVIL_ENGINEERING')).toBeGreaterThan(count('LEGAL') * 2);
    expect(count('COST_ESTIMATION')).toBeGreaterThan(count('MEDICAL_EQUIPMENT') * 2);
    // Every expert's current employment is its employer; past ones have ended.
    const current = employment.filter((row) => row.ended_on === null);
    expect(current.map((row) => [row.expert_id, row.organisation, row.relation])).toEqual(
      expert.map((e) => [e.id, e.employer, 'EMPLOYEE']),
    );
    expect(employment.some((row) => row.relation === 'BOARD_MEMBER')).toBe(true);
    expect(expert.filter((e) => e.supervision_department !== null)).toHaveLength(60);
    expect(expert.filter((e) => e.status === 'SUSPENDED')).toHaveLength(30);
    expect(penalty).toHaveLength(30);
    expect(penalty.some((p) => p.until === null)).toBe(true);
    expect(penalty.some((p) => p.until !== null && p.until !== undefined && p.until < '2026-12-01')).toBe(true);
  });

  it('submits projects that satisfy the committee rules, with a chained timeline matching their status', () => {
    const { project, project_event } = data.projects;
    expect(project.length).toBeGreaterThanOrEqual(8);
    expect(project.length).toBeLessThanOrEqual(12);
    for (const p of project) {
      expect(p.committee_size % 2).toBe(1);
      expect(3 * (p.committee_size - p.tenderer_representatives)).toBeGreaterThanOrEqual(2 * p.committee_size);
      expect(p.bidders.length).toBeGreaterThanOrEqual(2);
      expect(p.bidders.length).toBeLessThanOrEqual(5);
      expect(p.evaluation_starts_at.getTime()).toBeGreaterThan(Date.parse('2026-12-01T01:00:00Z'));
      const events = project_event.filter((e) => e.project_id === p.id);
      expect(events[0].kind).toBe('SUBMITTED');
      expect(events[events.length - 1].kind).toBe(p.status);
      events.forEach((e, i) => {
        expect(e.seq).toBe(i + 1);
        if (i > 0) expect(e.prev_hash).toBe(events[i - 1].hash);
        const data = JSON.parse(String(e.data)) as { [key: string]: string };
        expect(e.hash).toBe(
          eventHash(e.prev_hash, {
            projectId: p.id,
            seq: e.seq,
            at: e.at.toISOString(),
            kind: e.kind,
            actor: e.actor,
            detail: e.detail ?? null,
            data,
          }),
        );
      });
    }
    expect(new Set(project.map((p) => p.status))).toEqual(new Set(['SUBMITTED', 'FILED', 'REJECTED', 'CANCELLED']));
  });
});

describe('seedDemoData against Postgres', () => {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `hub_seed_test_${randomBytes(6).toString('hex')}`;
  let venues: DomainDatabase<VenuesDatabase>;
  let experts: DomainDatabase<ExpertsDatabase>;
  let projects: DomainDatabase<ProjectsDatabase>;

  async function admin(statement: string): Promise<void> {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    await admin(`create database ${name}`);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    venues = openDomainDatabase<VenuesDatabase>(url.toString(), 'venues');
    experts = openDomainDatabase<ExpertsDatabase>(url.toString(), 'experts');
    projects = openDomainDatabase<ProjectsDatabase>(url.toString(), 'projects');
    await migrateDomain(venues.db, 'venues', venuesMigrations);
    await migrateDomain(experts.db, 'experts', expertsMigrations);
    await migrateDomain(projects.db, 'projects', projectsMigrations);
  });

  afterAll(async () => {
    await Promise.all([venues?.close(), experts?.close(), projects?.close()]);
    await admin(`drop database if exists ${name} with (force)`);
  });

  const csvDir = mkdtempSync(join(tmpdir(), 'hub-seed-test-'));
  afterAll(() => rmSync(csvDir, { recursive: true, force: true }));

  /** Every row of the pool's tables, in a stable order, without generated ids and timestamps. */
  async function poolRows(): Promise<Record<string, unknown[]>> {
    const query = async (text: string) => (await experts.pool.query(text)).rows;
    return {
      expert: await query(
        `select id, code, name, phone, home_platform_id, specialties, employer, supervision_department, supervision_region, status from experts.expert order by id`,
      ),
      employment: await query(
        `select expert_id, organisation, relation, started_on::text, ended_on::text from experts.employment order by expert_id, started_on, relation, organisation`,
      ),
      declared_conflict: await query(
        `select expert_id, organisation, kind from experts.declared_conflict order by expert_id, organisation, kind`,
      ),
      penalty: await query(
        `select expert_id, reason, imposed_on::text, until::text from experts.penalty order by expert_id, imposed_on, reason`,
      ),
    };
  }

  it('inserts every row within the schemas’ constraints and then reports the database as seeded', async () => {
    expect(await isDatabaseEmpty(venues.db)).toBe(true);
    const counts = await seedDemoData({ venues: venues.db, experts: experts.db, projects: projects.db }, { csvDir });
    // What the database holds now is exactly what the generator made.
    const expected = generateDemoData();
    const pools = { venues: venues.pool, experts: experts.pool, projects: projects.pool };
    for (const domain of ['venues', 'experts', 'projects'] as const) {
      for (const [table, rows] of Object.entries(expected[domain])) {
        const {
          rows: [stored],
        } = await pools[domain].query<{ n: number }>(`select count(*)::int as n from ${domain}.${table}`);
        expect([table, counts[table], stored.n]).toEqual([table, rows.length, rows.length]);
      }
    }
    expect(await isDatabaseEmpty(venues.db)).toBe(false);
  });

  it('loads the pool from the three import files it leaves in csvDir, row for row the generator’s pool', async () => {
    expect(readdirSync(csvDir).sort()).toEqual(['conflicts.csv', 'employment.csv', 'experts.csv']);
    const header = (file: string) => parseCsv(readFileSync(join(csvDir, file), 'utf8')).records[0].fields;
    expect(header('experts.csv')).toEqual(['code', 'name', 'home_platform', 'specialties', 'employer', 'status']);
    expect(header('employment.csv')).toEqual(['expert_code', 'employer', 'from', 'to']);
    expect(header('conflicts.csv')).toEqual(['expert_code', 'organisation', 'kind']);
    const { experts: pool } = generateDemoData();
    expect(parseCsv(readFileSync(join(csvDir, 'experts.csv'), 'utf8')).records).toHaveLength(pool.expert.length + 1);

    const stored = await poolRows();
    expect(stored.expert).toEqual(
      pool.expert.map((e) => ({
        id: e.id,
        code: e.code,
        name: e.name,
        phone: e.phone,
        home_platform_id: e.home_platform_id,
        specialties: e.specialties,
        employer: e.employer,
        supervision_department: e.supervision_department ?? null,
        supervision_region: e.supervision_region ?? null,
        status: e.status,
      })),
    );
    const byKey = (keys: string[]) => (a: Record<string, unknown>, b: Record<string, unknown>) => {
      for (const key of keys) {
        const [x, y] = [String(a[key]), String(b[key])];
        if (x !== y) return x < y ? -1 : 1;
      }
      return 0;
    };
    expect(stored.employment).toEqual(
      pool.employment
        .map((m) => ({ ...m, ended_on: m.ended_on ?? null }))
        .sort(byKey(['expert_id', 'started_on', 'relation', 'organisation'])),
    );
    expect(stored.declared_conflict).toEqual(
      [...pool.declared_conflict].sort(byKey(['expert_id', 'organisation', 'kind'])),
    );
    expect(stored.penalty).toEqual(
      pool.penalty.map((p) => ({ ...p, until: p.until ?? null })).sort(byKey(['expert_id', 'imposed_on', 'reason'])),
    );
    // The import and the details each wrote one audited change, by the seed.
    const { rows: changes } = await experts.pool.query<{ entity_type: string; actor: string }>(
      `select entity_type, actor from experts.master_data_change order by entity_type`,
    );
    expect(changes).toEqual([
      { entity_type: 'ExpertDetails', actor: 'seed:demo' },
      { entity_type: 'ExpertImport', actor: 'seed:demo' },
    ]);
  });

  it('refuses details naming an expert the pool lacks, writing none of them', async () => {
    const before = await poolRows();
    const details = new ExpertsService(experts.db, systemClock).recordPoolDetails(
      {
        phones: [{ code: 'HN-E-00001', phone: '13900000000' }],
        penalties: [{ code: 'HN-E-99999', reason: '无正当理由拒不参加评标', imposedOn: '2026-01-05', until: null }],
      },
      { sub: 'seed:demo', role: 'PROVINCIAL_ADMIN', platform: '410000' },
    );
    await expect(details).rejects.toMatchObject({
      message: expect.stringContaining('HN-E-99999'),
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await poolRows()).toEqual(before);
  });

  it('writes nothing when it seeds an already seeded database', async () => {
    const before = await poolRows();
    const { rows: changesBefore } = await experts.pool.query<{ n: number }>(
      `select count(*)::int as n from experts.master_data_change`,
    );
    const counts = await seedDemoData({ venues: venues.db, experts: experts.db, projects: projects.db });
    expect(Object.entries(counts).filter(([, n]) => n !== 0)).toEqual([]);
    expect(Object.keys(counts).sort()).toEqual(
      Object.values(generateDemoData())
        .flatMap((domain) => Object.keys(domain))
        .sort(),
    );
    expect(await poolRows()).toEqual(before);
    const { rows: changesAfter } = await experts.pool.query<{ n: number }>(
      `select count(*)::int as n from experts.master_data_change`,
    );
    expect(changesAfter).toEqual(changesBefore);
    for (const [domain, pool] of [
      ['venues', venues.pool],
      ['projects', projects.pool],
    ] as const) {
      for (const table of Object.keys(generateDemoData()[domain])) {
        const { rows } = await pool.query<{ n: number }>(`select count(*)::int as n from ${domain}.${table}`);
        expect([table, rows[0].n]).toEqual([
          table,
          (generateDemoData()[domain] as Record<string, unknown[]>)[table].length,
        ]);
      }
    }
  });
});
