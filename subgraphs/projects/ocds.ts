// The public face of an archive: an OCDS 1.1 release package (https://standard.open-contracting.org/1.1/) built from the
// unsealed parts of an archive bundle. The committee appears as one party with the role `evaluationBody` and no
// members; awards are left to the trading platform that publishes them.
import type { ArchiveBundle } from './steps/archive';

/**
 * The ocid prefix of this hub. OCDS prefixes are registered with the Open Contracting Partnership; a province that
 * publishes these packages registers its own and replaces this one.
 */
export const OCID_PREFIX = 'ocds-rehub1';

export interface OcdsOrganizationReference {
  id: string;
  name: string;
}

export interface OcdsParty extends OcdsOrganizationReference {
  roles: string[];
  details?: Record<string, string | number>;
}

export interface OcdsRelease {
  ocid: string;
  id: string;
  date: string;
  tag: string[];
  initiationType: 'tender';
  language: string;
  parties: OcdsParty[];
  buyer: OcdsOrganizationReference;
  tender: {
    id: string;
    title: string;
    status: 'planned' | 'active' | 'cancelled' | 'unsuccessful' | 'complete';
    value: { amount: number; currency: 'CNY' };
    procurementMethod: 'open';
    mainProcurementCategory?: 'goods' | 'works' | 'services';
    procuringEntity: OcdsOrganizationReference;
    tenderers: OcdsOrganizationReference[];
    numberOfTenderers: number;
    awardPeriod: { startDate: string; endDate: string };
  };
}

export interface OcdsReleasePackage {
  uri: string;
  version: '1.1';
  publishedDate: string;
  publisher: { name: string; uid: string };
  releases: OcdsRelease[];
}

const CATEGORIES: Record<string, 'goods' | 'works' | 'services' | undefined> = {
  CONSTRUCTION: 'works',
  TRANSPORT: 'works',
  WATER_CONSERVANCY: 'works',
  GOVERNMENT_PROCUREMENT: undefined, // goods or services: the hub does not know which
  OTHER: undefined,
};

function tenderStatus(status: string): OcdsRelease['tender']['status'] {
  if (status === 'CANCELLED') return 'cancelled';
  if (status === 'REJECTED') return 'unsuccessful';
  if (status === 'EVALUATED' || status === 'ARCHIVED') return 'complete';
  if (status === 'SUBMITTED') return 'planned';
  return 'active';
}

/** Fen to yuan as a JSON number: OCDS amounts are decimal numbers in the currency's unit. */
function yuan(fen: string): number {
  const value = BigInt(fen);
  return Number(value / 100n) + Number(value % 100n) / 100;
}

/**
 * Builds the release package of a project's archive. The release id names the archive head it was built from, so a
 * later export of a grown archive is a new release of the same ocid.
 *
 * ```ts
 * const ocds = releasePackageOf(bundle, 'https://hub.example/archives/prj_1.ocds.json', new Date());
 * ```
 */
export function releasePackageOf(bundle: ArchiveBundle, uri: string, publishedAt: Date): OcdsReleasePackage {
  const { project } = bundle;
  const buyer: OcdsParty = { id: 'buyer', name: project.tenderer, roles: ['buyer'] };
  const agency: OcdsParty = { id: 'procuring-entity', name: project.agency, roles: ['procuringEntity'] };
  const tenderers: OcdsParty[] = project.bidders.map((name, index) => ({ id: `tenderer-${index + 1}`, name, roles: ['tenderer'] }));
  const committee: OcdsParty = {
    id: 'evaluation-committee',
    name: `${project.code} 评标委员会`,
    roles: ['evaluationBody'],
    details: { members: project.committeeSize, tendererRepresentatives: project.tendererRepresentatives },
  };
  const host: OcdsParty = { id: `platform-${project.hostPlatform.id}`, name: project.hostPlatform.name, roles: ['interestedParty'] };
  const latest = bundle.events.at(-1)?.at ?? bundle.exportedAt;
  const category = CATEGORIES[project.category];
  const release: OcdsRelease = {
    ocid: `${OCID_PREFIX}-${project.id}`,
    id: `${project.id}-${bundle.archive.entries}-${bundle.archive.head.slice(0, 16)}`,
    date: latest,
    tag: project.status === 'CANCELLED' ? ['tenderCancellation'] : ['tender'],
    initiationType: 'tender',
    language: 'zh',
    parties: [buyer, agency, ...tenderers, committee, host],
    buyer: { id: buyer.id, name: buyer.name },
    tender: {
      id: project.code,
      title: project.name,
      status: tenderStatus(project.status),
      value: { amount: yuan(project.budget), currency: 'CNY' },
      procurementMethod: 'open',
      ...(category ? { mainProcurementCategory: category } : {}),
      procuringEntity: { id: agency.id, name: agency.name },
      tenderers: tenderers.map((party) => ({ id: party.id, name: party.name })),
      numberOfTenderers: tenderers.length,
      awardPeriod: { startDate: project.evaluationStartsAt, endDate: project.evaluationEndsAt },
    },
  };
  return {
    uri,
    version: '1.1',
    publishedDate: publishedAt.toISOString(),
    publisher: { name: project.hostPlatform.name, uid: project.hostPlatform.id },
    releases: [release],
  };
}
