// 档案保存: the hash-chained timeline, tampering found at exactly the touched entry, sealing, the exports through the
// gateway (bundle and OCDS), the independent verifier, and the state machine refusing every transition it does not list.
import { formatReport, parseBundle, verifyBundle } from '../app/cli/verify-archive';
import { codeOf } from '../lib/errors';
import { eventHash } from '../subgraphs/projects/service';
import { TRANSITIONS } from '../subgraphs/projects/workflow';
import type { ProjectStatus } from '../subgraphs/projects/types';
import { ocdsReleasePackage, officialOcdsIssues } from './support/ocds-release-package';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

let t: TestHub;
beforeAll(async () => {
  t = await startTestHub({ jobs: false });
});
afterAll(async () => {
  await t.stop();
});

const AGENCY = '驻马店示例招标代理有限公司';
const VERIFY = `query($id: ID!) { verifyProjectArchive(projectId: $id) { projectId intact entries firstBrokenEntry } }`;
const ARCHIVE = `mutation($id: ID!) { archiveProject(projectId: $id) { status timeline { kind detail } } }`;

let serial = 0;
async function projectWithHistory(): Promise<string> {
  serial += 1;
  const starts = new Date(Date.now() + (20 + serial) * 86_400_000);
  const submitted = await t.graphql<{ submitProject: { id: string } }>(
    as.agency(AGENCY),
    `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
    {
      input: {
        code: `ZMD-ARC-${serial}-${Math.random().toString(36).slice(2, 7)}`,
        name: '示例水利工程',
        category: 'WATER_CONSERVANCY',
        department: 'WATER_RESOURCES',
        hostPlatformId: ZHUMADIAN,
        tenderer: '示例水务公司',
        agency: AGENCY,
        bidders: ['示例水利建设公司', '示例水电工程公司'],
        budget: '123456789',
        mode: 'REMOTE',
        committeeSize: 5,
        tendererRepresentatives: 1,
        evaluationStartsAt: starts.toISOString(),
        evaluationEndsAt: new Date(starts.getTime() + 6 * 3_600_000).toISOString(),
      },
    },
  );
  const id = submitted.data!.submitProject.id;
  expect(
    (
      await t.graphql(
        as.supervisor('WATER_RESOURCES'),
        `mutation($id: ID!) { fileProject(projectId: $id, approve: true) { id } }`,
        { id },
      )
    ).errors,
  ).toBeUndefined();
  const projects = t.hub.services.projects;
  await projects.appendEvent(id, {
    kind: 'NOTE',
    actor: 'test',
    detail: '含中文与 "引号"',
    data: { b: 2, a: [1, { z: null, y: true }] },
  });
  await projects.appendEvent(id, { kind: 'NOTE', actor: 'test', detail: null, data: {} });
  await projects.appendEvent(id, {
    kind: 'NOTE',
    actor: 'test',
    detail: 'last',
    data: { amount: '90071992547409931' },
  });
  return id;
}

async function verify(id: string) {
  const response = await t.graphql<{
    verifyProjectArchive: { intact: boolean; entries: number; firstBrokenEntry: number | null };
  }>(as.supervisor('WATER_RESOURCES'), VERIFY, { id });
  expect(response.errors).toBeUndefined();
  return response.data!.verifyProjectArchive;
}

describe('verifyProjectArchive', () => {
  it('finds an untouched chain intact', async () => {
    const id = await projectWithHistory();
    expect(await verify(id)).toEqual({ projectId: id, intact: true, entries: 5, firstBrokenEntry: null });
  });

  const tamperings: [string, number, Record<string, unknown>][] = [
    ['the detail of one entry', 3, { detail: '含中文与 "引号" (edited)' }],
    ['the data of one entry', 3, { data: JSON.stringify({ b: 3, a: [1, { z: null, y: true }] }) }],
    ['the actor of the first entry', 1, { actor: 'agency:someone-else' }],
    ['the time of the last entry', 5, { at: new Date('2020-01-01T00:00:00Z') }],
    ['the kind of one entry', 2, { kind: 'REJECTED' }],
  ];
  it.each(tamperings)('names the entry when %s is changed in the database', async (_what, seq, change) => {
    const id = await projectWithHistory();
    await t.databases.projects.db
      .updateTable('project_event')
      .set(change)
      .where('project_id', '=', id)
      .where('seq', '=', seq)
      .execute();
    expect(await verify(id)).toEqual({ projectId: id, intact: false, entries: 5, firstBrokenEntry: seq });
  });

  it('names the entry whose link breaks when a row is rewritten with a recomputed hash, and a gap when one is deleted', async () => {
    const id = await projectWithHistory();
    const db = t.databases.projects.db;
    // A forger who recomputes entry 3's own hash still breaks entry 4's link to it.
    const row = await db
      .selectFrom('project_event')
      .selectAll()
      .where('project_id', '=', id)
      .where('seq', '=', 3)
      .executeTakeFirstOrThrow();
    const forged = eventHash(row.prev_hash, {
      projectId: id,
      seq: 3,
      at: row.at.toISOString(),
      kind: row.kind,
      actor: row.actor,
      detail: 'forged',
      data: row.data as never,
    });
    await db.updateTable('project_event').set({ detail: 'forged', hash: forged }).where('id', '=', row.id).execute();
    expect((await verify(id)).firstBrokenEntry).toBe(4);

    const other = await projectWithHistory();
    await db.deleteFrom('project_event').where('project_id', '=', other).where('seq', '=', 2).execute();
    expect((await verify(other)).firstBrokenEntry).toBe(3);
  });

  it('refuses those who may not read the project', async () => {
    const id = await projectWithHistory();
    for (const identity of [
      as.agency('其他示例代理公司'),
      as.supervisor('FINANCE'),
      as.operator('411721'),
      as.expert('exp-00001'),
    ]) {
      expect((await t.graphql(identity, VERIFY, { id })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
  });
});

describe('archiveProject', () => {
  it('seals an EVALUATED project, after which its archive takes no more events', async () => {
    const id = await projectWithHistory();
    await t.databases.projects.db.updateTable('project').set({ status: 'EVALUATED' }).where('id', '=', id).execute();
    const response = await t.graphql<{
      archiveProject: { status: string; timeline: { kind: string; detail: string }[] };
    }>(as.operator(), ARCHIVE, { id });
    expect(response.errors).toBeUndefined();
    expect(response.data!.archiveProject.status).toBe('ARCHIVED');
    expect(response.data!.archiveProject.timeline.at(-1)).toEqual({
      kind: 'ARCHIVED',
      detail: 'archive sealed after 5 verified entries',
    });
    await expect(t.hub.services.projects.appendEvent(id, { kind: 'NOTE', actor: 'test' })).rejects.toMatchObject({
      extensions: { code: 'CONFLICT' },
    });
    expect(await verify(id)).toMatchObject({ intact: true, entries: 6 });
  });

  it('refuses anyone but a host operator, a project not EVALUATED, and a broken chain, writing nothing', async () => {
    const id = await projectWithHistory();
    await t.databases.projects.db.updateTable('project').set({ status: 'EVALUATED' }).where('id', '=', id).execute();
    for (const identity of [as.operator('411721'), as.agency(AGENCY), as.supervisor('WATER_RESOURCES'), as.admin]) {
      expect((await t.graphql(identity, ARCHIVE, { id })).errors?.[0].extensions?.code).toBe('FORBIDDEN');
    }
    await t.databases.projects.db
      .updateTable('project_event')
      .set({ detail: 'tampered' })
      .where('project_id', '=', id)
      .where('seq', '=', 2)
      .execute();
    const broken = await t.graphql(as.operator(), ARCHIVE, { id });
    expect(broken.errors?.[0]).toMatchObject({
      extensions: { code: 'CONFLICT' },
      message: expect.stringContaining('broken at entry 2'),
    });

    const early = await projectWithHistory();
    expect((await t.graphql(as.operator(), ARCHIVE, { id: early })).errors?.[0].extensions?.code).toBe('CONFLICT');
    const statuses = await t.databases.projects.db
      .selectFrom('project')
      .select(['id', 'status'])
      .where('id', 'in', [id, early])
      .execute();
    expect(Object.fromEntries(statuses.map((row) => [row.id, row.status]))).toEqual({
      [id]: 'EVALUATED',
      [early]: 'FILED',
    });
  });
});

describe('exports through the gateway', () => {
  const get = async (path: string, identity: Parameters<TestHub['graphql']>[0]) => {
    const headers: Record<string, string> = identity ? { authorization: `Bearer ${await t.token(identity)}` } : {};
    const response = await fetch(new URL(path, t.hub.gateway.url), { headers });
    return { status: response.status, text: await response.text(), type: response.headers.get('content-type') };
  };

  it('exports a bundle the independent verifier finds intact, and finds a tampered copy broken at that entry', async () => {
    const id = await projectWithHistory();
    const response = await get(`/archives/${encodeURIComponent(id)}.json`, as.agency(AGENCY));
    expect(response.status).toBe(200);
    expect(response.type).toMatch(/^application\/json/);
    const bundle = parseBundle(response.text);
    expect(bundle).toMatchObject({
      format: 'remote-evaluation-archive',
      formatVersion: 1,
      project: { id },
      archive: { entries: 5 },
    });
    const report = verifyBundle(bundle);
    expect(report).toMatchObject({ ok: true, chain: { intact: true, entries: 5 } });
    expect(formatReport(report)).toContain('hash chain intact');

    const tampered = parseBundle(response.text);
    tampered.events[3].detail = 'rewritten';
    expect(verifyBundle(tampered).chain).toMatchObject({ intact: false, firstBrokenEntry: 4 });
    const truncated = parseBundle(response.text);
    truncated.events.pop();
    expect(verifyBundle(truncated).chain.intact).toBe(false);
  });

  it('exports a valid OCDS 1.1 release package with the committee as one evaluationBody party', async () => {
    const id = await projectWithHistory();
    const response = await get(`/archives/${id}.ocds.json`, as.supervisor('WATER_RESOURCES'));
    expect(response.status).toBe(200);
    const parsed = ocdsReleasePackage.safeParse(JSON.parse(response.text));
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    // The official OCDS 1.1.5 schema and codelists, with the hub's extension applied (test/ocds.test.ts covers the rest).
    expect(officialOcdsIssues(JSON.parse(response.text))).toEqual([]);
    const release = JSON.parse(response.text).releases.at(-1);
    expect(release.tag).toEqual(['tenderUpdate']);
    expect(release.parties.filter((party: { roles: string[] }) => party.roles.includes('evaluationBody'))).toEqual([
      {
        id: 'evaluation-committee',
        name: expect.stringContaining('评标委员会'),
        roles: ['evaluationBody'],
        details: { members: 5, tendererRepresentatives: 1 },
      },
    ]);
    expect(release.tender).toMatchObject({
      value: { amount: 1234567.89, currency: 'CNY' },
      mainProcurementCategory: 'works',
      numberOfTenderers: 2,
    });
    expect(release.awards).toBeUndefined();
  });

  it('refuses without a token, for a caller who may not read the project, and for an unknown project', async () => {
    const id = await projectWithHistory();
    expect((await get(`/archives/${id}.json`, null)).status).toBe(401);
    expect((await get(`/archives/${id}.json`, as.agency('其他示例代理公司'))).status).toBe(403);
    expect((await get(`/archives/${id}.ocds.json`, as.expert('exp-00001'))).status).toBe(403);
    expect((await get(`/archives/prj_nope.json`, as.admin)).status).toBe(404);
    expect((await get(`/archives/${id}.xml`, as.admin)).status).toBe(404);
  });
});

describe('the state machine', () => {
  it('refuses every transition it does not list with CONFLICT, writing no event, no outbox row and no change', async () => {
    const id = await projectWithHistory();
    const db = t.databases.projects.db;
    const states = Object.keys(TRANSITIONS) as ProjectStatus[];
    let refused = 0;
    for (const from of states) {
      await db.updateTable('project').set({ status: from }).where('id', '=', id).execute();
      const events = await db
        .selectFrom('project_event')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('project_id', '=', id)
        .executeTakeFirstOrThrow();
      const outbox = await db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow();
      for (const to of states.filter((state) => !TRANSITIONS[from].includes(state))) {
        const error = await t.hub.services.projects
          .transition(id, {
            to,
            kind: `TRY_${to}`,
            actor: 'test',
            outbox: [{ queue: 'notifications', name: 'invitation', data: { seatId: id } }],
            set: { fee_advance: 1n },
          })
          .then(
            () => null,
            (caught: unknown) => caught,
          );
        expect([from, to, codeOf(error)]).toEqual([from, to, 'CONFLICT']);
        refused += 1;
      }
      const after = await db
        .selectFrom('project')
        .select(['status', 'fee_advance'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      expect([from, after.status, after.fee_advance]).toEqual([from, from, null]);
      expect(
        (
          await db
            .selectFrom('project_event')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('project_id', '=', id)
            .executeTakeFirstOrThrow()
        ).n,
      ).toBe(events.n);
      expect(
        (
          await db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      ).toBe(outbox.n);
    }
    const allowed = states.reduce((sum, state) => sum + TRANSITIONS[state].length, 0);
    expect(refused).toBe(states.length * states.length - allowed);
  });
});

describe('archiveBundle and archiveReleasePackage through GraphQL', () => {
  const BUNDLE = `query($id: ID!) { archiveBundle(projectId: $id) }`;
  const PACKAGE = `query($id: ID!) { archiveReleasePackage(projectId: $id) }`;

  it('gives the bundle of the project, which the independent verifier finds intact, with every timeline entry in order', async () => {
    const id = await projectWithHistory();
    const response = await t.graphql<{ archiveBundle: string }>(as.agency(AGENCY), BUNDLE, { id });
    expect(response.errors).toBeUndefined();
    const bundle = parseBundle(response.data!.archiveBundle);
    expect(bundle).toMatchObject({
      format: 'remote-evaluation-archive',
      formatVersion: 1,
      project: { id, hostPlatform: { id: ZHUMADIAN } },
      archive: { entries: 5 },
    });
    const stored = await t.databases.projects.db
      .selectFrom('project_event')
      .select(['seq', 'kind', 'hash'])
      .where('project_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(bundle.events.map((event) => [event.kind, event.hash])).toEqual(stored.map((row) => [row.kind, row.hash]));
    expect(verifyBundle(bundle)).toMatchObject({ ok: true, chain: { intact: true, entries: 5 } });
    // The same archive as the GET export, but for the time of the export.
    const exported = parseBundle(
      await (
        await fetch(new URL(`/archives/${id}.json`, t.hub.gateway.url), {
          headers: { authorization: `Bearer ${await t.token(as.agency(AGENCY))}` },
        })
      ).text(),
    );
    expect({ ...bundle, exportedAt: null }).toEqual({ ...exported, exportedAt: null });
  });

  it('gives a valid OCDS 1.1 release package, published at the same URI as the GET export', async () => {
    const id = await projectWithHistory();
    const asked = await t.graphql<{ archiveReleasePackage: string }>(as.supervisor('WATER_RESOURCES'), PACKAGE, { id });
    expect(asked.errors).toBeUndefined();
    const releasePackage = JSON.parse(asked.data!.archiveReleasePackage) as {
      uri: string;
      releases: { ocid: string; tender: { numberOfTenderers: number } }[];
    };
    const parsed = ocdsReleasePackage.safeParse(releasePackage);
    expect(parsed.success ? [] : parsed.error.issues).toEqual([]);
    expect(releasePackage.uri.endsWith(`/archives/${encodeURIComponent(id)}.ocds.json`)).toBe(true);
    // Releases of one contracting process (the project), each naming both bidders.
    expect(releasePackage.releases.length).toBeGreaterThan(0);
    expect(new Set(releasePackage.releases.map((release) => release.ocid)).size).toBe(1);
    expect(releasePackage.releases.every((release) => release.tender.numberOfTenderers === 2)).toBe(true);
    const exported = JSON.parse(
      await (
        await fetch(new URL(`/archives/${id}.ocds.json`, t.hub.gateway.url), {
          headers: { authorization: `Bearer ${await t.token(as.supervisor('WATER_RESOURCES'))}` },
        })
      ).text(),
    ) as { uri: string };
    expect(exported.uri).toBe(releasePackage.uri);
  });

  it('refuses without a token (UNAUTHENTICATED), a caller who may not read the project (FORBIDDEN) and an unknown project (NOT_FOUND)', async () => {
    const id = await projectWithHistory();
    for (const query of [BUNDLE, PACKAGE]) {
      expect((await t.graphql(null, query, { id })).errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      const forbidden = await t.graphql(as.agency('其他示例代理公司'), query, { id });
      expect(forbidden.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(forbidden.data ?? null).toBeNull();
      expect((await t.graphql(as.admin, query, { id: 'prj_nope' })).errors?.[0].extensions?.code).toBe('NOT_FOUND');
    }
  });
});
