// The queries a newcomer copies from README.md, read from README.md itself so the client suites follow the README when
// it changes, and the seeded facts their answers must show (the demo data is deterministic: app/seed).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { as, ZHUMADIAN } from '../support/hub';

const README = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');

function readmeQueries(): { platform: string; projects: string } {
  // "What you get": the curl line's JSON body.
  const curlBody = /-d '(\{"query":.*\})'/.exec(README);
  if (!curlBody) throw new Error('README.md no longer has the curl query of "What you get"');
  const platform = (JSON.parse(curlBody[1]) as { query: string }).query;
  // "A query that crosses the three subgraphs": the first graphql block.
  const block = /```graphql\n([\s\S]*?)```/.exec(README);
  if (!block) throw new Error('README.md no longer has the graphql block of the cross-subgraph query');
  return { platform, projects: block[1] };
}

export const README_QUERIES = readmeQueries();

/** The README's token: a Zhumadian platform operator, as `npm start` prints it. */
export const README_IDENTITY = as.operator(ZHUMADIAN);

export interface PlatformAnswer {
  platform: {
    name: string;
    venues: { name: string; rooms: { name: string; seats: number }[] }[];
    partners: { partner: { name: string }; autoConfirm: boolean }[];
  };
}

export interface ProjectsAnswer {
  projects: {
    totalCount: number;
    edges: {
      node: {
        code: string;
        status: string;
        hostPlatform: { name: string };
        venueBookings: { status: string; room: { name: string } }[];
        expertDraw: { status: string; seedCommitment: string } | null;
      };
    }[];
  };
}

/** What the seeded Zhumadian platform looks like through the README's first query. */
export function expectSeededZhumadian(answer: PlatformAnswer | undefined | null): void {
  expect(answer?.platform.name).toBe('驻马店市公共资源交易中心');
  expect(answer?.platform.venues).toEqual([
    {
      name: '驻马店市公共资源交易中心评标中心',
      rooms: [
        { name: '1号评标室', seats: 6 },
        { name: '2号评标室', seats: 8 },
      ],
    },
  ]);
  const partners = new Map(answer?.platform.partners.map(({ partner, autoConfirm }) => [partner.name, autoConfirm]));
  // Every other city of the province, and the ten counties of Zhumadian, which auto-confirm.
  expect(partners.size).toBe(27);
  expect(partners.get('郑州市公共资源交易中心')).toBe(false);
  expect(partners.get('驿城区公共资源交易中心')).toBe(true);
  expect(partners.get('新蔡县公共资源交易中心')).toBe(true);
}

/** What the seeded projects of Zhumadian look like through the README's cross-subgraph query, to its operator. */
export function expectSeededProjects(answer: ProjectsAnswer | undefined | null): void {
  expect(answer?.projects.totalCount).toBe(7);
  const nodes = answer?.projects.edges.map((edge) => edge.node) ?? [];
  expect(nodes).toHaveLength(5);
  // The host platform comes from the venues subgraph, the status from projects, the draw from experts.
  expect(new Set(nodes.map((node) => node.hostPlatform.name))).toEqual(new Set(['驻马店市公共资源交易中心']));
  expect(nodes).toContainEqual({
    code: 'ZMD-2026-0001',
    status: 'FILED',
    hostPlatform: { name: '驻马店市公共资源交易中心' },
    venueBookings: [],
    expertDraw: null,
  });
  expect(nodes).toContainEqual(expect.objectContaining({ code: 'ZMD-2026-0006', status: 'REJECTED' }));
}

/** A client's answer without the `__typename` fields some clients add to every selection. */
export function withoutTypenames<T>(value: T): T {
  return JSON.parse(JSON.stringify(value, (key, field: unknown) => (key === '__typename' ? undefined : field))) as T;
}
