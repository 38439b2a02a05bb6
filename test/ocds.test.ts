// The OCDS export's conventions (issue 15, defect 7): the package's uri from HUB_PUBLIC_URL whatever the Host header,
// byte-identical downloads of an unchanged archive, the configured ocid prefix, license, publication policy and
// publisher scheme, the hub's extension served and listed, one party per organisation, release tags and stable ids,
// exact amounts over the whole Money range, and every package valid against the official OCDS 1.1.5 schema with the
// extension applied and every codelist value a code.
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  OcdsAmount,
  ocdsPublicationOf,
  releasePackageJson,
  releasePackageOf,
  type OcdsPublication,
} from '../subgraphs/projects/ocds';
import type { ArchiveBundle } from '../subgraphs/projects/steps/archive-bundle';
import { loadConfig } from '../lib/config';
import { HUB_EXTENSION_DIR, mergePatch, ocdsReleasePackage, officialOcdsIssues } from './support/ocds-release-package';
import { projectInput } from './support/expert-draw';
import { as, startTestHub, ZHUMADIAN, type TestHub } from './support/hub';

const PUBLIC_URL = 'https://hub.example.gov.cn/evaluation';
const LICENSE = 'https://creativecommons.org/licenses/by/4.0/';
const POLICY = 'https://hub.example.gov.cn/evaluation/ocds-publication-policy.html';
const AGENCY = '驻马店示例招标代理有限公司';
const MAX_MONEY = 2n ** 53n - 1n;

interface Party {
  id: string;
  name: string;
  roles: string[];
  identifier?: unknown;
}
interface Release {
  ocid: string;
  id: string;
  date: string;
  tag: string[];
  parties: Party[];
  buyer: { id: string; name: string };
  tender: {
    status: string;
    procurementMethod: string;
    procuringEntity: { id: string };
    tenderers: { id: string; name: string }[];
    numberOfTenderers: number;
    value: { amount: number };
  };
}
interface Package {
  uri: string;
  publishedDate: string;
  extensions: string[];
  license?: string;
  publicationPolicy?: string;
  publisher: { name: string; scheme: string; uid: string };
  releases: Release[];
}

describe('amounts', () => {
  it('converts fen to yuan exactly: 114 fen is 1.14, never 1.1400000000000001', () => {
    expect(new OcdsAmount('114').text).toBe('1.14');
    expect(new OcdsAmount('110').text).toBe('1.1');
    expect(new OcdsAmount('100').text).toBe('1');
    expect(new OcdsAmount('5').text).toBe('0.05');
    expect(new OcdsAmount('0').text).toBe('0');
    expect(new OcdsAmount(MAX_MONEY).text).toBe('90071992547409.91');
  });

  it('writes every Money value (0 … 2^53-1 fen) as the exact decimal of its yuan, in canonical form, into the JSON text', () => {
    fc.assert(
      fc.property(fc.bigInt(0n, MAX_MONEY), (fen) => {
        const { text } = new OcdsAmount(fen.toString());
        // A canonical decimal: no leading zeros, at most two decimals, no trailing zero after the point.
        expect(text).toMatch(/^(0|[1-9]\d*)(\.\d?[1-9])?$/);
        const [whole, fraction = ''] = text.split('.');
        expect(BigInt(whole) * 100n + BigInt(fraction.padEnd(2, '0'))).toBe(fen);
        // The package's JSON text carries those digits verbatim, and any JSON parser reads a number from them.
        const json = releasePackageJson(
          releasePackageOf(
            bundleOf({ budget: fen.toString() }, [{ kind: 'SUBMITTED', at: '2026-11-01T00:00:00.000Z' }]),
            PUBLICATION,
          ),
        );
        expect(json).toContain(`"value":{"amount":${text},"currency":"CNY"}`);
        expect(typeof (JSON.parse(json) as Package).releases[0].tender.value.amount).toBe('number');
      }),
      { numRuns: 2000, examples: [[0n], [1n], [10n], [99n], [100n], [114n], [MAX_MONEY], [MAX_MONEY - 1n]] },
    );
  });
});

/** A bundle as archiveBundle makes it, with the fields the OCDS package reads. */
function bundleOf(project: Partial<ArchiveBundle['project']>, events: { kind: string; at: string }[]): ArchiveBundle {
  return {
    format: 'remote-evaluation-archive',
    formatVersion: 1,
    exportedAt: '2030-01-01T00:00:00.000Z',
    sealedPartsIncluded: false,
    project: {
      id: 'prj_unit',
      code: 'ZMD-2026-001',
      name: '示例道路工程',
      category: 'CONSTRUCTION',
      department: 'HOUSING_AND_CONSTRUCTION',
      hostPlatform: { id: '411700', name: '驻马店市公共资源交易中心' },
      tenderer: '示例城投公司',
      agency: '示例招标代理公司',
      bidders: ['甲公司', '乙公司'],
      budget: '114',
      mode: 'REMOTE',
      procurementMethod: 'OPEN',
      committeeSize: 5,
      tendererRepresentatives: 1,
      evaluationStartsAt: '2026-12-20T01:00:00.000Z',
      evaluationEndsAt: '2026-12-20T09:00:00.000Z',
      status: 'SUBMITTED',
      feeAdvance: null,
      ...project,
    },
    archive: {
      algorithm: 'sha256(prevHash || canonicalJson(event))',
      genesis: '0'.repeat(64),
      entries: events.length,
      head: 'f'.repeat(64),
      intact: true,
      firstBrokenEntry: null,
    },
    events: events.map((event, i) => ({
      seq: i + 1,
      at: event.at,
      kind: event.kind,
      actor: 'test',
      detail: null,
      data: {},
      prevHash: '0'.repeat(64),
      hash: `${i + 1}`.repeat(64).slice(0, 64),
    })),
    ledger: [],
    bookings: [],
    draws: [],
  };
}

const PUBLICATION: OcdsPublication = {
  publicUrl: PUBLIC_URL,
  ocidPrefix: 'ocds-zmd001',
  license: null,
  publicationPolicy: null,
  publisherScheme: 'CN-GBT2260',
};
const packageOf = (bundle: ArchiveBundle): Package =>
  JSON.parse(releasePackageJson(releasePackageOf(bundle, PUBLICATION)));

describe('the release package of a bundle', () => {
  it('merges an organisation that is buyer, procuring entity and tenderer into one party with three roles', () => {
    // 自行招标: the tenderer runs its own tender and is also listed among the bidders (spaced and bracketed differently).
    const pkg = packageOf(
      bundleOf(
        {
          tenderer: '示例（集团）有限公司',
          agency: '示例(集团)有限公司',
          bidders: [' 示例（集团）有限公司', '乙公司', '乙公司'],
        },
        [{ kind: 'SUBMITTED', at: '2026-11-01T00:00:00.000Z' }],
      ),
    );
    const [release] = pkg.releases;
    expect(release.tender.procurementMethod).toBe('open');
    expect(release.parties.map((party) => party.roles)).toEqual([
      ['buyer', 'procuringEntity', 'tenderer'],
      ['tenderer'],
      ['evaluationBody'],
    ]);
    const [organisation, other] = release.parties;
    expect(release.buyer.id).toBe(organisation.id);
    expect(release.tender.procuringEntity.id).toBe(organisation.id);
    expect(release.tender.tenderers.map((tenderer) => tenderer.id)).toEqual([organisation.id, other.id]);
    expect(release.tender.numberOfTenderers).toBe(2);
    // The trading center publishes the package; it is no party (no partyRole code describes it).
    expect(release.parties.map((party) => party.name)).not.toContain('驻马店市公共资源交易中心');
    expect(pkg.publisher).toEqual({ name: '驻马店市公共资源交易中心', scheme: 'CN-GBT2260', uid: '411700' });
    expect(officialOcdsIssues(pkg)).toEqual([]);
  });

  it('tags the first release tender, a later one tenderUpdate and a cancellation tenderCancellation, each with a stable id', () => {
    const submitted = { kind: 'SUBMITTED', at: '2026-11-01T00:00:00.000Z' };
    const filed = { kind: 'FILED', at: '2026-11-02T00:00:00.000Z' };
    const cancelled = { kind: 'CANCELLED', at: '2026-11-03T00:00:00.000Z' };
    const first = packageOf(bundleOf({ status: 'SUBMITTED' }, [submitted]));
    const later = packageOf(bundleOf({ status: 'FILED' }, [submitted, filed]));
    const ended = packageOf(bundleOf({ status: 'CANCELLED' }, [submitted, filed, cancelled]));
    expect(first.releases.map((release) => [release.tag, release.tender.status, release.date])).toEqual([
      [['tender'], 'planned', submitted.at],
    ]);
    expect(later.releases.map((release) => [release.tag, release.tender.status, release.date])).toEqual([
      [['tender'], 'planned', submitted.at],
      [['tenderUpdate'], 'active', filed.at],
    ]);
    expect(ended.releases.map((release) => [release.tag, release.tender.status, release.date])).toEqual([
      [['tender'], 'planned', submitted.at],
      [['tenderCancellation'], 'cancelled', cancelled.at],
    ]);
    // The first release is the same release in every package; later ones are named after their entry.
    expect(later.releases[0]).toEqual(first.releases[0]);
    expect(ended.releases[0]).toEqual(first.releases[0]);
    expect(new Set([first.releases[0].id, later.releases[1].id, ended.releases[1].id]).size).toBe(3);
    expect(packageOf(bundleOf({ status: 'FILED' }, [submitted, filed]))).toEqual(later);
    for (const pkg of [first, later, ended]) {
      expect(new Set(pkg.releases.map((release) => release.ocid))).toEqual(new Set(['ocds-zmd001-prj_unit']));
      expect(pkg.publishedDate).toBe(pkg.releases.at(-1)!.date);
      expect(officialOcdsIssues(pkg)).toEqual([]);
    }
  });
});

describe('the official schema check', () => {
  // The check itself must be able to fail, or its silence above proves nothing.
  it('finds a role no codelist or extension declares, a closed code out of its list, and a schema violation', () => {
    const pkg = packageOf(bundleOf({}, [{ kind: 'SUBMITTED', at: '2026-11-01T00:00:00.000Z' }]));
    pkg.releases[0].parties[0].roles.push('interestedParty', 'tradingCenter');
    pkg.releases[0].tag = ['tenderRevision'];
    (pkg as { publishedDate: unknown }).publishedDate = 'yesterday';
    const issues = officialOcdsIssues(pkg);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^releases\[0\]\.parties\[0\]\.roles: "tradingCenter" is not a code of partyRole\.csv/),
        expect.stringMatching(/^releases\[0\]\.tag: "tenderRevision" is not a code of releaseTag\.csv/),
        expect.stringMatching(/^\/publishedDate: must match format "date-time"/),
      ]),
    );
    expect(issues.join('\n')).not.toMatch(/interestedParty/);
    // Without the extension, evaluationBody is no code of the official partyRole codelist.
    const official = readFileSync(
      join(__dirname, '..', '..', 'shared', 'data', 'ocds-1.1.5', 'codelists', 'partyRole.csv'),
      'utf8',
    );
    expect(official).not.toMatch(/^evaluationBody,/m);
  });

  it('applies the extension as a JSON merge patch (RFC 7396)', () => {
    expect(mergePatch({ a: { b: 1, c: 2 }, d: [1] }, { a: { c: null, e: 3 }, d: [2] })).toEqual({
      a: { b: 1, e: 3 },
      d: [2],
    });
    const patch = JSON.parse(readFileSync(join(HUB_EXTENSION_DIR, 'release-schema.json'), 'utf8'));
    expect(Object.keys(patch.definitions.Organization.properties.details.properties).sort()).toEqual([
      'members',
      'tendererRepresentatives',
    ]);
  });
});

describe('through the gateway', () => {
  let t: TestHub;
  beforeAll(async () => {
    t = await startTestHub({
      jobs: false,
      overrides: {
        HUB_PUBLIC_URL: `${PUBLIC_URL}/`,
        OCDS_PREFIX: 'ocds-zmd001',
        OCDS_LICENSE: LICENSE,
        OCDS_PUBLICATION_POLICY: POLICY,
        OCDS_PUBLISHER_SCHEME: 'CN-GBT2260',
      },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  let serial = 0;
  async function submitted(overrides: Record<string, unknown> = {}): Promise<string> {
    serial += 1;
    const starts = new Date(Date.now() + (30 + serial) * 86_400_000);
    const input = projectInput('ZMD-OCDS', '示例水利工程', {
      category: 'WATER_CONSERVANCY',
      department: 'WATER_RESOURCES',
      hostPlatformId: ZHUMADIAN,
      tenderer: '示例水务公司',
      agency: AGENCY,
      bidders: ['示例水利建设公司', '示例水电工程公司'],
      budget: '114',
      mode: 'REMOTE',
      evaluationStartsAt: starts.toISOString(),
      evaluationEndsAt: new Date(starts.getTime() + 6 * 3_600_000).toISOString(),
      ...overrides,
    });
    const response = await t.graphql<{ submitProject: { id: string } }>(
      as.agency(AGENCY),
      `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
      { input },
    );
    expect(response.errors).toBeUndefined();
    return response.data!.submitProject.id;
  }

  /** GET through node:http, so that the Host header is exactly the one given. */
  async function download(
    path: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; type: string | undefined; text: string }> {
    const url = new URL(path, t.hub.gateway.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            type: res.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }
  const bearer = async (identity: Parameters<TestHub['token']>[0]) => ({
    authorization: `Bearer ${await t.token(identity)}`,
  });

  it('builds the uri from HUB_PUBLIC_URL, not from the Host header a request sends', async () => {
    const id = await submitted();
    const response = await download(`/archives/${id}.ocds.json`, {
      ...(await bearer(as.agency(AGENCY))),
      host: 'attacker.example',
    });
    expect(response.status).toBe(200);
    const pkg = JSON.parse(response.text) as Package;
    expect(pkg.uri).toBe(`${PUBLIC_URL}/archives/${id}.ocds.json`);
    expect(pkg.extensions).toEqual([`${PUBLIC_URL}/ocds/extension/extension.json`]);
    expect(response.text).not.toContain('attacker.example');
  });

  it('answers two downloads of an unchanged archive with the same bytes, dated by the archive', async () => {
    const id = await submitted();
    const first = await download(`/archives/${id}.ocds.json`, await bearer(as.agency(AGENCY)));
    const second = await download(`/archives/${id}.ocds.json`, await bearer(as.supervisor('WATER_RESOURCES')));
    expect(first.status).toBe(200);
    expect(Buffer.from(second.text).equals(Buffer.from(first.text))).toBe(true);
    const [event] = await t.hub.services.projects.eventsOfProjects([id]);
    expect((JSON.parse(first.text) as Package).publishedDate).toBe(event.at.toISOString());
  });

  it('publishes with the configured prefix, license, policy and publisher scheme, amounts exact, valid against the official schema', async () => {
    const id = await submitted();
    const graphql = await t.graphql<{ archiveReleasePackage: string }>(
      as.agency(AGENCY),
      `query($id: ID!) { archiveReleasePackage(projectId: $id) }`,
      { id },
    );
    expect(graphql.errors).toBeUndefined();
    const text = graphql.data!.archiveReleasePackage;
    expect(text).toContain('"value":{"amount":1.14,"currency":"CNY"}');
    const pkg = JSON.parse(text) as Package;
    expect(pkg).toMatchObject({
      license: LICENSE,
      publicationPolicy: POLICY,
      publisher: { name: '驻马店市公共资源交易中心', scheme: 'CN-GBT2260', uid: ZHUMADIAN },
    });
    expect(pkg.releases.map((release) => [release.ocid, release.tag])).toEqual([[`ocds-zmd001-${id}`, ['tender']]]);
    // Submitted without a procurement method: open.
    expect(pkg.releases[0].tender.procurementMethod).toBe('open');
    expect(officialOcdsIssues(pkg)).toEqual([]);
    const zod = ocdsReleasePackage.safeParse(pkg);
    expect(zod.success ? [] : zod.error.issues).toEqual([]);
  });

  it('publishes the procurement method the agency submitted, and refuses one outside the codelist writing nothing', async () => {
    const id = await submitted({ procurementMethod: 'LIMITED' });
    const project = await t.graphql<{ project: { procurementMethod: string } }>(
      as.agency(AGENCY),
      `query($id: ID!) { project(id: $id) { procurementMethod } }`,
      { id },
    );
    expect(project.data!.project.procurementMethod).toBe('LIMITED');
    const pkg = JSON.parse(
      (await download(`/archives/${id}.ocds.json`, await bearer(as.agency(AGENCY)))).text,
    ) as Package;
    expect(pkg.releases.map((release) => release.tender.procurementMethod)).toEqual(['limited']);
    expect(officialOcdsIssues(pkg)).toEqual([]);
    const code = `ZMD-OCDS-BAD-${Math.random().toString(36).slice(2, 7)}`;
    const refused = await t.graphql(
      as.agency(AGENCY),
      `mutation($input: SubmitProjectInput!) { submitProject(input: $input) { id } }`,
      {
        input: {
          code,
          name: '示例',
          category: 'WATER_CONSERVANCY',
          department: 'WATER_RESOURCES',
          hostPlatformId: ZHUMADIAN,
          tenderer: '甲',
          agency: AGENCY,
          bidders: ['乙'],
          budget: '1',
          mode: 'REMOTE',
          procurementMethod: 'negotiated',
          committeeSize: 5,
          tendererRepresentatives: 1,
          evaluationStartsAt: '2030-01-01T01:00:00Z',
          evaluationEndsAt: '2030-01-01T05:00:00Z',
        },
      },
    );
    expect(refused.errors?.[0]?.message).toMatch(/ProcurementMethod/);
    expect(await t.databases.projects.db.selectFrom('project').select('id').where('code', '=', code).execute()).toEqual(
      [],
    );
  });

  it('adds a tenderUpdate as the archive grows and a tenderCancellation once cancelled, keeping the first release as it was', async () => {
    const id = await submitted();
    const get = async () =>
      JSON.parse((await download(`/archives/${id}.ocds.json`, await bearer(as.admin))).text) as Package;
    const atSubmission = await get();
    expect(
      (
        await t.graphql(
          as.supervisor('WATER_RESOURCES'),
          `mutation($id: ID!) { fileProject(projectId: $id, approve: true) { id } }`,
          { id },
        )
      ).errors,
    ).toBeUndefined();
    const atFiling = await get();
    expect(
      (
        await t.graphql(
          as.operator(ZHUMADIAN),
          `mutation($id: ID!) { cancelProject(projectId: $id, reason: "招标人撤回项目") { id } }`,
          { id },
        )
      ).errors,
    ).toBeUndefined();
    const atCancellation = await get();
    expect(atFiling.releases.map((release) => release.tag)).toEqual([['tender'], ['tenderUpdate']]);
    expect(atCancellation.releases.map((release) => [release.tag, release.tender.status])).toEqual([
      [['tender'], 'planned'],
      [['tenderCancellation'], 'cancelled'],
    ]);
    expect(atFiling.releases[0]).toEqual(atSubmission.releases[0]);
    expect(atCancellation.releases[0]).toEqual(atSubmission.releases[0]);
    expect(atCancellation.releases[1].id).not.toBe(atFiling.releases[1].id);
    expect(atCancellation.publishedDate > atFiling.publishedDate).toBe(true);
    for (const pkg of [atSubmission, atFiling, atCancellation]) expect(officialOcdsIssues(pkg)).toEqual([]);
  });

  it('serves its OCDS extension without a token: the files extension.json lists, as the repository has them', async () => {
    const manifest = await download('/ocds/extension/extension.json');
    expect(manifest.status).toBe(200);
    expect(manifest.type).toMatch(/^application\/json/);
    expect(manifest.text).toBe(readFileSync(join(HUB_EXTENSION_DIR, 'extension.json'), 'utf8'));
    const listed = JSON.parse(manifest.text) as { schemas: string[]; codelists: string[] };
    expect(listed).toMatchObject({ schemas: ['release-schema.json'], codelists: ['+partyRole.csv'] });
    const schema = await download('/ocds/extension/release-schema.json');
    expect(schema.text).toBe(readFileSync(join(HUB_EXTENSION_DIR, 'release-schema.json'), 'utf8'));
    for (const path of ['/ocds/extension/codelists/+partyRole.csv', '/ocds/extension/codelists/%2BpartyRole.csv']) {
      const codelist = await download(path);
      expect({ path, status: codelist.status, type: codelist.type }).toEqual({
        path,
        status: 200,
        type: 'text/csv; charset=utf-8',
      });
      expect(codelist.text).toMatch(/^evaluationBody,/m);
    }
    for (const path of [
      '/ocds/extension/../../package.json',
      '/ocds/extension/%2e%2e/%2e%2e/package.json',
      '/ocds/extension/codelists',
      '/ocds/extension/',
    ]) {
      expect({ path, status: (await download(path)).status }).toEqual({ path, status: 404 });
    }
  });
});

describe('configuration', () => {
  it('defaults the public URL to the gateway port, the prefix to ocds-rehub1, and refuses a malformed prefix', () => {
    expect(ocdsPublicationOf(loadConfig({ GATEWAY_PORT: '4100' }))).toEqual({
      publicUrl: 'http://localhost:4100',
      ocidPrefix: 'ocds-rehub1',
      license: null,
      publicationPolicy: null,
      publisherScheme: 'CN-GBT2260',
    });
    expect(() => loadConfig({ OCDS_PREFIX: 'rehub1' })).toThrow(/OCDS_PREFIX: use a registered prefix/);
    expect(() => loadConfig({ HUB_PUBLIC_URL: 'hub.example' })).toThrow(/HUB_PUBLIC_URL/);
  });
});
