// The public face of an archive: an OCDS 1.1 release package (https://standard.open-contracting.org/1.1/) built from the
// unsealed parts of an archive bundle. docs/archive-format.md ("The OCDS release package") explains each choice.
//
// - Everything in the package is a function of the archive (and the configuration): the releases are dated by their
//   timeline entries and publishedDate is the last entry's time, so two downloads of an unchanged archive are the
//   same bytes.
// - The committee appears as one party with the role `evaluationBody` and its size in `details`, both declared by the
//   hub's OCDS extension (schema/ocds-extension, served at /ocds/extension/extension.json); it never names members.
// - The trading center hosting the evaluation is the package's publisher, not a party: none of the partyRole codes
//   describes a center that hosts the evaluation without managing the procurement.
// - Awards are left to the trading platform that publishes them.
import { createHash } from 'node:crypto';
import type { HubConfig } from '../../lib/config';
import type { ArchiveBundle } from './steps/archive-bundle';

/** How this hub publishes OCDS: HUB_PUBLIC_URL, OCDS_PREFIX, OCDS_LICENSE, OCDS_PUBLICATION_POLICY, OCDS_PUBLISHER_SCHEME. */
export interface OcdsPublication {
  /** The gateway's public base URL, without a trailing slash. */
  publicUrl: string;
  /** The registered ocid prefix, e.g. ocds-rehub1. */
  ocidPrefix: string;
  license: string | null;
  publicationPolicy: string | null;
  /** The scheme of publisher.uid: the host trading center's GB/T 2260 region code. */
  publisherScheme: string;
}

export function ocdsPublicationOf(config: HubConfig): OcdsPublication {
  return {
    publicUrl: (config.HUB_PUBLIC_URL ?? `http://localhost:${config.GATEWAY_PORT}`).replace(/\/+$/, ''),
    ocidPrefix: config.OCDS_PREFIX,
    license: config.OCDS_LICENSE ?? null,
    publicationPolicy: config.OCDS_PUBLICATION_POLICY ?? null,
    publisherScheme: config.OCDS_PUBLISHER_SCHEME,
  };
}

/** Where the gateway serves the hub's OCDS extension (gateway/archives.ts), relative to the public URL. */
export const OCDS_EXTENSION_PATH = '/ocds/extension/';

/** The package's own URI: where the gateway serves it, under the configured public URL. */
export function releasePackageUri(publication: OcdsPublication, projectId: string): string {
  return `${publication.publicUrl}/archives/${encodeURIComponent(projectId)}.ocds.json`;
}

export function extensionUrl(publication: OcdsPublication): string {
  return `${publication.publicUrl}${OCDS_EXTENSION_PATH}extension.json`;
}

/**
 * An amount in yuan, written into the JSON text exactly as the decimal its fen make (114 fen → 1.14): a JS number
 * cannot hold every Money value's yuan (above 2^53 / 100 its nearest double is another decimal), the JSON text can.
 */
export class OcdsAmount {
  readonly text: string;
  constructor(fen: string | bigint) {
    const value = BigInt(fen);
    if (value < 0n) throw new RangeError(`an amount cannot be negative: ${value} fen`);
    const cents = value % 100n;
    const whole = (value / 100n).toString();
    this.text = cents === 0n ? whole : `${whole}.${cents.toString().padStart(2, '0').replace(/0$/, '')}`;
  }
}

export interface OcdsOrganizationReference {
  id: string;
  name: string;
}

export interface OcdsParty extends OcdsOrganizationReference {
  roles: string[];
  details?: { members: number; tendererRepresentatives: number };
}

export interface OcdsRelease {
  ocid: string;
  id: string;
  date: string;
  tag: ('tender' | 'tenderUpdate' | 'tenderCancellation')[];
  initiationType: 'tender';
  language: string;
  parties: OcdsParty[];
  buyer: OcdsOrganizationReference;
  tender: {
    id: string;
    title: string;
    status: 'planned' | 'active' | 'cancelled' | 'unsuccessful' | 'complete';
    value: { amount: OcdsAmount; currency: 'CNY' };
    procurementMethod: 'open' | 'selective' | 'limited' | 'direct';
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
  extensions: string[];
  publishedDate: string;
  publisher: { name: string; scheme: string; uid: string };
  license?: string;
  publicationPolicy?: string;
  releases: OcdsRelease[];
}

const CATEGORIES: Record<string, 'goods' | 'works' | 'services' | undefined> = {
  CONSTRUCTION: 'works',
  TRANSPORT: 'works',
  WATER_CONSERVANCY: 'works',
  GOVERNMENT_PROCUREMENT: undefined, // goods or services: the hub does not know which
  OTHER: undefined,
};

const PROCUREMENT_METHODS: Record<string, OcdsRelease['tender']['procurementMethod']> = {
  OPEN: 'open',
  SELECTIVE: 'selective',
  LIMITED: 'limited',
  DIRECT: 'direct',
};

function tenderStatus(status: string): OcdsRelease['tender']['status'] {
  if (status === 'CANCELLED') return 'cancelled';
  if (status === 'REJECTED') return 'unsuccessful';
  if (status === 'EVALUATED' || status === 'ARCHIVED') return 'complete';
  if (status === 'SUBMITTED') return 'planned';
  return 'active';
}

/** One organisation however its name is spaced or its brackets are written (全角 or half-width). */
function organisationKey(name: string): string {
  return name.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

/**
 * The project's organisations as parties, one per organisation with all its roles: the tenderer (招标人) is the buyer,
 * the agency the procuring entity, the bidders tenderers. The hub knows them by name only (no registered identifier),
 * so a party's id is derived from its name and stays the same in every release.
 */
function organisationParties(project: ArchiveBundle['project']): Map<string, OcdsParty> {
  const parties = new Map<string, OcdsParty>();
  const add = (name: string, role: string) => {
    const key = organisationKey(name);
    const party = parties.get(key) ?? {
      id: `org-${createHash('sha256').update(key).digest('hex').slice(0, 12)}`,
      name: name.trim(),
      roles: [],
    };
    if (!party.roles.includes(role)) party.roles.push(role);
    parties.set(key, party);
  };
  add(project.tenderer, 'buyer');
  add(project.agency, 'procuringEntity');
  for (const bidder of project.bidders) add(bidder, 'tenderer');
  return parties;
}

const reference = (party: OcdsParty): OcdsOrganizationReference => ({ id: party.id, name: party.name });

/** The release that describes the project as it stood after the timeline entry `entry`, in `status`. */
function releaseAt(
  bundle: ArchiveBundle,
  publication: OcdsPublication,
  entry: ArchiveBundle['events'][number],
  status: string,
  tag: OcdsRelease['tag'],
): OcdsRelease {
  const { project } = bundle;
  const organisations = organisationParties(project);
  const byName = (name: string) => organisations.get(organisationKey(name))!;
  const committee: OcdsParty = {
    id: 'evaluation-committee',
    name: `${project.code} 评标委员会`,
    roles: ['evaluationBody'],
    details: { members: project.committeeSize, tendererRepresentatives: project.tendererRepresentatives },
  };
  const tenderers = [...new Set(project.bidders.map(byName))];
  const category = CATEGORIES[project.category];
  return {
    ocid: `${publication.ocidPrefix}-${project.id}`,
    // The entry's place and hash: the same release whenever it is exported, and checkable against the bundle.
    id: `${project.id}-${entry.seq}-${entry.hash.slice(0, 16)}`,
    date: entry.at,
    tag,
    initiationType: 'tender',
    language: 'zh',
    parties: [...organisations.values(), committee],
    buyer: reference(byName(project.tenderer)),
    tender: {
      id: project.code,
      title: project.name,
      status: tenderStatus(status),
      value: { amount: new OcdsAmount(project.budget), currency: 'CNY' },
      procurementMethod: PROCUREMENT_METHODS[project.procurementMethod],
      ...(category ? { mainProcurementCategory: category } : {}),
      procuringEntity: reference(byName(project.agency)),
      tenderers: tenderers.map(reference),
      numberOfTenderers: tenderers.length,
      awardPeriod: { startDate: project.evaluationStartsAt, endDate: project.evaluationEndsAt },
    },
  };
}

/**
 * Builds the release package of a project's archive. It holds the project's first release (`tender`, as submitted:
 * the archive's first entry) and, once the archive has grown, its current one (`tenderUpdate`, or
 * `tenderCancellation` once cancelled), each named after the timeline entry it reflects.
 *
 * ```ts
 * const text = releasePackageJson(releasePackageOf(bundle, ocdsPublicationOf(config)));
 * ```
 */
export function releasePackageOf(bundle: ArchiveBundle, publication: OcdsPublication): OcdsReleasePackage {
  const { project, events } = bundle;
  const first = events[0];
  const last = events.at(-1);
  if (!first || !last) throw new Error(`the archive of project ${project.id} has no entries; it cannot be published`);
  const releases = [releaseAt(bundle, publication, first, 'SUBMITTED', ['tender'])];
  if (last.seq !== first.seq)
    releases.push(
      releaseAt(bundle, publication, last, project.status, [
        project.status === 'CANCELLED' ? 'tenderCancellation' : 'tenderUpdate',
      ]),
    );
  return {
    uri: releasePackageUri(publication, project.id),
    version: '1.1',
    extensions: [extensionUrl(publication)],
    // Generated on demand: the time its contents last changed (OCDS), so an unchanged archive exports the same bytes.
    publishedDate: last.at,
    publisher: { name: project.hostPlatform.name, scheme: publication.publisherScheme, uid: project.hostPlatform.id },
    ...(publication.license ? { license: publication.license } : {}),
    ...(publication.publicationPolicy ? { publicationPolicy: publication.publicationPolicy } : {}),
    releases,
  };
}

/** The package as JSON text, amounts written as exact decimals. */
export function releasePackageJson(pkg: OcdsReleasePackage): string {
  return ocdsJson(pkg);
}

function ocdsJson(value: unknown): string {
  if (value instanceof OcdsAmount) return value.text;
  if (Array.isArray(value)) return `[${value.map(ocdsJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value).filter(([, field]) => field !== undefined);
    return `{${fields.map(([key, field]) => `${JSON.stringify(key)}:${ocdsJson(field)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
