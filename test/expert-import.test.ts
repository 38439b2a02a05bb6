// The bulk import of an expert pool (MASTER-DATA.md, Bulk import) on a real Postgres: a good import, the same files again
// changing nothing, one bad row among many refusing everything and naming every bad row, a dry run writing nothing,
// unknown specialties answered with the nearest known ones, and the GraphQL mutation through the gateway.
import { sql } from 'kysely';
import { toCsv } from '../lib/csv';
import { importExpertFiles, type ExpertFiles } from '../subgraphs/experts/pool-import';
import { editDistance, nearestSpecialties } from '../subgraphs/experts/specialties';
import { as, inDays, startTestHub, type TestHub } from './support/hub';
import { advanceFee, arrangeConfirmed, confirmCommittee, file, submit } from './support/workflow';

const ACTOR = { sub: 'test-import', role: 'PROVINCIAL_ADMIN', platform: '410000' };
const EXPERT_HEADER = ['code', 'name', 'home_platform', 'specialties', 'employer', 'status'];
const EMPLOYMENT_HEADER = ['expert_code', 'employer', 'from', 'to'];
const CONFLICT_HEADER = ['expert_code', 'organisation', 'kind'];

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub();
}, 60_000);
afterAll(async () => {
  await t?.stop();
});

const db = () => t.databases.experts.db;
const importFiles = (files: ExpertFiles, dryRun = false) =>
  importExpertFiles(db(), t.hub.services.venues, files, { actor: ACTOR, dryRun });

/** Row counts of every table an import may write. */
async function fingerprint(): Promise<Record<string, number>> {
  const { rows } = await sql<{
    expert: string;
    employment: string;
    conflicts: string;
    changes: string;
    specialties: string;
  }>`
    select (select count(*) from expert) as expert, (select count(*) from employment) as employment,
      (select count(*) from declared_conflict) as conflicts, (select count(*) from master_data_change) as changes,
      (select md5(string_agg(code || name || home_platform_id || array_to_string(specialties, ';') || employer || status, ',' order by code)) from expert) as specialties`.execute(
    db(),
  );
  return Object.fromEntries(
    Object.entries(rows[0]).map(([key, value]) => [key, key === 'specialties' ? value : Number(value)]),
  ) as Record<string, number>;
}

describe('importing a pool from CSV files', () => {
  // A BOM, CRLF, a quoted employer with a comma and doubled quotes, a name with a line break inside quotes elsewhere.
  const experts =
    '\uFEFF' +
    toCsv([
      EXPERT_HEADER,
      [
        'IMP-0001',
        '王建国',
        '411700',
        'CIVIL_ENGINEERING;COST_ESTIMATION',
        '驻马店市示例建筑设计院, 有限公司',
        'ACTIVE',
      ],
      ['IMP-0002', '李"小"红', '411721', 'LEGAL', '', 'SUSPENDED'],
      ['IMP-0003', '赵敏', '410100', ' HVAC ; ELECTRICAL ', '郑州市示例电力设计院', 'ACTIVE'],
    ]);
  const employment = toCsv([
    EMPLOYMENT_HEADER,
    ['IMP-0001', '驻马店市示例建筑设计院, 有限公司', '2015-03-01', ''],
    ['IMP-0001', '驻马店市示例公路勘察设计院', '2008-07-01', '2015-02-28'],
    ['IMP-0003', '郑州市示例电力设计院', '2019-01-01', ''],
  ]);
  const conflicts = toCsv([
    CONFLICT_HEADER,
    ['IMP-0001', '驻马店市示例城市建设投资有限公司', 'KINSHIP'],
    ['IMP-0003', '郑州市示例电网公司', 'OTHER'],
  ]);

  it('writes the experts, their employment and conflicts, and one audited change with the files sha256', async () => {
    const report = await importFiles({ experts, employment, conflicts });
    expect(report.errors).toEqual([]);
    expect([
      report.created,
      report.updated,
      report.unchanged,
      report.employmentAdded,
      report.conflictsAdded,
      report.applied,
    ]).toEqual([3, 0, 0, 3, 2, true]);
    const rows = await db()
      .selectFrom('expert')
      .select(['code', 'name', 'home_platform_id', 'specialties', 'employer', 'status'])
      .where('code', 'like', 'IMP-%')
      .orderBy('code')
      .execute();
    expect(rows).toEqual([
      {
        code: 'IMP-0001',
        name: '王建国',
        home_platform_id: '411700',
        specialties: ['CIVIL_ENGINEERING', 'COST_ESTIMATION'],
        employer: '驻马店市示例建筑设计院, 有限公司',
        status: 'ACTIVE',
      },
      {
        code: 'IMP-0002',
        name: '李"小"红',
        home_platform_id: '411721',
        specialties: ['LEGAL'],
        employer: '',
        status: 'SUSPENDED',
      },
      {
        code: 'IMP-0003',
        name: '赵敏',
        home_platform_id: '410100',
        specialties: ['HVAC', 'ELECTRICAL'],
        employer: '郑州市示例电力设计院',
        status: 'ACTIVE',
      },
    ]);
    const jobs = await sql<{ organisation: string; started_on: string; ended_on: string | null }>`
      select organisation, started_on::text, ended_on::text from employment join expert on expert.id = employment.expert_id
      where expert.code = 'IMP-0001' order by started_on`.execute(db());
    expect(jobs.rows).toEqual([
      { organisation: '驻马店市示例公路勘察设计院', started_on: '2008-07-01', ended_on: '2015-02-28' },
      { organisation: '驻马店市示例建筑设计院, 有限公司', started_on: '2015-03-01', ended_on: null },
    ]);
    const change = await db()
      .selectFrom('master_data_change')
      .selectAll()
      .where('id', '=', report.changeId!)
      .executeTakeFirstOrThrow();
    expect([change.entity_type, change.entity_id, change.note, change.actor]).toEqual([
      'ExpertImport',
      report.sha256,
      `sha256 ${report.sha256}`,
      'test-import',
    ]);
    expect(change.after).toMatchObject({ created: 3, employmentAdded: 3, conflictsAdded: 2 });
  });

  it('changes nothing when the same files come again, and says so', async () => {
    const before = await fingerprint();
    const report = await importFiles({ experts, employment, conflicts });
    expect([
      report.created,
      report.updated,
      report.unchanged,
      report.employmentAdded,
      report.employmentUpdated,
      report.conflictsAdded,
      report.applied,
    ]).toEqual([0, 0, 3, 0, 0, 0, false]);
    expect(await fingerprint()).toEqual(before);
  });

  it('updates an expert whose row or employment end changed, and only that one', async () => {
    const changed = experts.replace(
      'IMP-0002,"李""小""红",411721,LEGAL,,SUSPENDED',
      'IMP-0002,"李""小""红",411721,LEGAL,,ACTIVE',
    );
    expect(changed).not.toEqual(experts);
    const ended = employment.replace(
      'IMP-0003,郑州市示例电力设计院,2019-01-01,',
      'IMP-0003,郑州市示例电力设计院,2019-01-01,2024-06-30',
    );
    const report = await importFiles({ experts: changed, employment: ended, conflicts });
    expect([report.created, report.updated, report.unchanged, report.employmentUpdated, report.applied]).toEqual([
      0,
      2,
      1,
      1,
      true,
    ]);
    expect(
      (await db().selectFrom('expert').select('status').where('code', '=', 'IMP-0002').executeTakeFirstOrThrow())
        .status,
    ).toBe('ACTIVE');
  });

  it('refuses the whole import for bad rows among many, naming every one as file:line: column, and writes nothing', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => [
      `BULK-${String(i).padStart(4, '0')}`,
      `专家${i}`,
      '411700',
      'LEGAL',
      '示例单位',
      'ACTIVE',
    ]);
    rows[9][3] = 'LEGAL;CIVIL_ENGINERING'; // line 11
    rows[99][2] = '999999'; // line 101
    rows[149][5] = 'RETIRED'; // line 151
    rows[199][0] = 'BULK-0000'; // line 201: a code already used on line 2
    rows[249][2] = '驻马店'; // line 251
    const employmentRows = [
      EMPLOYMENT_HEADER,
      ['BULK-0001', '示例单位', '2020-02-30', ''],
      ['NOBODY', '示例单位', '2020-01-01', ''],
      ['BULK-0002', '示例单位', '2020-01-01', '2019-01-01'],
    ];
    const before = await fingerprint();
    const report = await importFiles({
      experts: toCsv([EXPERT_HEADER, ...rows]) + 'BULK-9999,"unterminated\r\n',
      employment: toCsv(employmentRows),
      conflicts: toCsv([CONFLICT_HEADER, ['BULK-0003', '示例公司', 'FRIENDSHIP'], ['BULK-0004', '示例公司']]),
    });
    expect(report.applied).toBe(false);
    expect(report.errors).toEqual([
      expect.stringMatching(
        /^experts\.csv:11: specialties: unknown specialty "CIVIL_ENGINERING"; the nearest known ones are CIVIL_ENGINEERING, /,
      ),
      'experts.csv:101: home_platform: no platform 999999 exists; see the platforms query for the ids',
      'experts.csv:151: status: "RETIRED" is not a status: write ACTIVE or SUSPENDED',
      'experts.csv:201: code: BULK-0000 appears again (first on line 2); give each expert one row',
      'experts.csv:251: home_platform: "驻马店" is not a platform id: give the platform\'s six-digit region code, such as 411700',
      'experts.csv:302: a quoted field is never closed: add the closing double quote',
      'experts.csv:302: home_platform: the row has 2 fields, the header 6; add the missing fields (empty ones too)',
      'employment.csv:2: from: "2020-02-30" is not a date: write YYYY-MM-DD',
      'employment.csv:3: expert_code: no expert NOBODY in experts.csv or in the pool',
      'employment.csv:4: to: 2019-01-01 is before from (2020-01-01); an employment ends after it starts',
      'conflicts.csv:2: kind: "FRIENDSHIP" is not a kind: write KINSHIP, ECONOMIC_INTEREST, OTHER',
      'conflicts.csv:3: kind: the row has 2 fields, the header 3; add the missing fields (empty ones too)',
    ]);
    expect(await fingerprint()).toEqual(before);
  });

  it('with dryRun counts what it would change and writes nothing', async () => {
    const before = await fingerprint();
    const report = await importFiles(
      {
        experts: toCsv([
          EXPERT_HEADER,
          ['DRY-1', '钱多多', '411700', 'LEGAL', '', 'ACTIVE'],
          ['IMP-0001', '王建国', '411700', 'CIVIL_ENGINEERING', '驻马店市示例建筑设计院, 有限公司', 'ACTIVE'],
        ]),
      },
      true,
    );
    expect([report.dryRun, report.created, report.updated, report.unchanged, report.applied, report.changeId]).toEqual([
      true,
      1,
      1,
      0,
      false,
      null,
    ]);
    expect(await fingerprint()).toEqual(before);
  });
});

describe('suspending through the import', () => {
  it('refuses to suspend an expert holding live seats on an evaluation not yet over, naming the project, and writes nothing', async () => {
    const projectId = await submit(t, { startsAt: inDays(60, 1), endsAt: inDays(60, 9) });
    await file(t, projectId);
    await arrangeConfirmed(t, projectId);
    await advanceFee(t, projectId);
    const [seat] = await confirmCommittee(t, projectId);
    const expert = await db()
      .selectFrom('expert')
      .selectAll()
      .where('id', '=', seat.expert_id!)
      .executeTakeFirstOrThrow();
    const row = [
      expert.code,
      expert.name,
      expert.home_platform_id,
      expert.specialties.join(';'),
      expert.employer,
      'SUSPENDED',
    ];
    const before = await fingerprint();
    const report = await importFiles({ experts: toCsv([EXPERT_HEADER, row]) });
    expect(report.errors).toEqual([
      `experts.csv:2: status: ${expert.code} holds live seats on evaluations not yet over (projects ${projectId}); suspend the expert with suspendExpert(withdrawSeats: true), which replaces those seats, then import again`,
    ]);
    expect(report.applied).toBe(false);
    expect(await fingerprint()).toEqual(before);
  }, 90_000);
});

describe('the specialty list', () => {
  it('names the nearest known specialties, counting code points', () => {
    expect(editDistance('𠀀工程', '土工程')).toBe(1);
    expect(nearestSpecialties('土木工程', ['电气工程', '土木工程施工', '给排水'], 2)).toEqual([
      '土木工程施工',
      '电气工程',
    ]);
    expect(nearestSpecialties('hvak', ['HVAC', 'LEGAL', 'IT_SYSTEMS'], 1)).toEqual(['HVAC']);
  });

  it('is answered by Query.specialties to every role', async () => {
    const answer = await t.graphql<{ specialties: string[] }>(as.agency('示例招标代理有限公司'), '{ specialties }');
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.specialties).toEqual(expect.arrayContaining(['CIVIL_ENGINEERING', 'LEGAL']));
  });
});

describe('Mutation.importExperts through the gateway', () => {
  const mutation = `mutation($experts: String!, $employment: String, $dryRun: Boolean) {
    importExperts(experts: $experts, employment: $employment, dryRun: $dryRun) { dryRun sha256 created updated unchanged employmentAdded errors applied changeId files { name rows } }
  }`;
  const files = {
    experts: toCsv([EXPERT_HEADER, ['GQL-1', '孙立', '411700', 'LEGAL', '', 'ACTIVE']]),
    employment: toCsv([EMPLOYMENT_HEADER, ['GQL-1', '示例律师事务所', '2010-01-01', '']]),
  };

  it('is refused to every role but PROVINCIAL_ADMIN (FORBIDDEN), writing nothing', async () => {
    const before = await fingerprint();
    for (const caller of [
      as.operator(),
      as.supervisor('FINANCE'),
      as.agency('示例招标代理有限公司'),
      as.expert('exp-00001'),
      as.partner('411700'),
    ]) {
      const answer = await t.graphql(caller, mutation, files);
      expect([caller.role, answer.errors?.[0]?.extensions?.code]).toEqual([caller.role, 'FORBIDDEN']);
    }
    expect(await fingerprint()).toEqual(before);
  });

  it('imports for the admin, shows the audited change in masterDataChanges, and refuses bad rows with every problem listed', async () => {
    const answer = await t.graphql<{
      importExperts: {
        created: number;
        employmentAdded: number;
        applied: boolean;
        changeId: string;
        sha256: string;
        files: { name: string; rows: number }[];
      };
    }>(as.admin, mutation, files);
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.importExperts).toMatchObject({
      created: 1,
      employmentAdded: 1,
      applied: true,
      files: [
        { name: 'experts.csv', rows: 1 },
        { name: 'employment.csv', rows: 1 },
      ],
    });
    const changes = await t.graphql<{
      masterDataChanges: {
        totalCount: number;
        edges: { node: { id: string; entityType: string; entityId: string; role: string; after: string } }[];
      };
    }>(
      as.supervisor('FINANCE'),
      '{ masterDataChanges(entityType: "ExpertImport", first: 1) { totalCount edges { node { id entityType entityId role after } } } }',
    );
    expect(changes.errors).toBeUndefined();
    const node = changes.data!.masterDataChanges.edges[0].node;
    expect([node.id, node.entityId, node.role]).toEqual([
      answer.data!.importExperts.changeId,
      answer.data!.importExperts.sha256,
      'PROVINCIAL_ADMIN',
    ]);
    expect(JSON.parse(node.after)).toMatchObject({ created: 1, employmentAdded: 1 });

    const again = await t.graphql<{ importExperts: { unchanged: number; applied: boolean } }>(
      as.admin,
      mutation,
      files,
    );
    expect(again.data!.importExperts).toMatchObject({ unchanged: 1, applied: false });

    const before = await fingerprint();
    const bad = {
      experts: toCsv([
        EXPERT_HEADER,
        ['GQL-2', '周全', '411700', 'LAW', '', 'ACTIVE'],
        ['GQL-3', '吴用', '411700', 'LEGAL', '', 'active'],
      ]),
    };
    const refused = await t.graphql(as.admin, mutation, bad);
    expect(refused.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refused.errors?.[0]?.extensions?.problems).toEqual([
      expect.stringMatching(/^experts\.csv:2: specialties: unknown specialty "LAW"; the nearest known ones are /),
      'experts.csv:3: status: "active" is not a status: write ACTIVE or SUSPENDED',
    ]);
    expect(refused.errors?.[0]?.message).toContain('experts.csv:3: status');
    expect(await fingerprint()).toEqual(before);

    const dry = await t.graphql<{ importExperts: { dryRun: boolean; errors: string[]; applied: boolean } }>(
      as.admin,
      mutation,
      { ...bad, dryRun: true },
    );
    expect(dry.data!.importExperts).toMatchObject({ dryRun: true, applied: false });
    expect(dry.data!.importExperts.errors).toHaveLength(2);
  });
});
