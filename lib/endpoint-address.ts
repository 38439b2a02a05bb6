// Where the hub may send a partner's webhooks: the rules for an endpoint URL and for every address it reaches.
// A URL is checked when it is saved (setPartnerEndpoint) and again at every delivery (lib/safe-delivery.ts), where its
// name is resolved and each resolved address goes through `addressRefusal` below before any socket opens.
import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';
import { badInput } from './errors';

/** What decides an address: production or not, the private networks operators opened, and (tests only) more. */
export interface AddressPolicy {
  /** HUB_ENV === 'production': only https, and `testNetworks` may not be used. */
  production: boolean;
  /** WEBHOOK_ALLOWED_NETWORKS as loadConfig returns it: CIDRs inside private ranges, opened for closed networks. */
  allowedNetworks: readonly string[];
  /**
   * Tests only: CIDRs a test opens so deliveries reach its own receiver on 127.0.0.1 (loopback and private, never a
   * metadata address). Passed in code by a test, never read from configuration or a URL; refused in production.
   */
  testNetworks?: readonly string[];
}

export type EndpointCheck =
  | {
      ok: true;
      url: URL;
      /** The host without IPv6 brackets. */ host: string;
      /** Set when the host is an IP literal. */ ip?: string;
    }
  | { ok: false; reason: string };

interface Range {
  cidr: string;
  name: string;
  why: string;
  /** Loopback only: a test's `testNetworks` may open it to reach its own receiver. */
  testMayOpen?: true;
}

// Never reachable, whatever the allow list says. Metadata addresses come first: they sit inside link-local, CGNAT and
// unique-local ranges, and opening those ranges must not open them.
const REFUSED: Range[] = [
  {
    cidr: '169.254.169.254/32',
    name: 'the cloud metadata service of AWS, GCP, Azure and OpenStack',
    why: "it hands out this host's credentials",
  },
  {
    cidr: '100.100.100.200/32',
    name: 'the Alibaba Cloud metadata service',
    why: "it hands out this host's credentials",
  },
  {
    cidr: '168.63.129.16/32',
    name: "Azure's host service WireServer",
    why: 'it serves the virtual machine its configuration',
  },
  { cidr: 'fd00:ec2::254/128', name: "AWS's IPv6 metadata service", why: "it hands out this host's credentials" },
  { cidr: '0.0.0.0/8', name: 'unspecified ("this network")', why: 'a connection to it reaches this machine' },
  { cidr: '::/128', name: 'unspecified', why: 'a connection to it reaches this machine' },
  { cidr: '127.0.0.0/8', name: 'loopback', why: "it is this machine's own services", testMayOpen: true },
  { cidr: '::1/128', name: 'loopback', why: "it is this machine's own services", testMayOpen: true },
  {
    cidr: '169.254.0.0/16',
    name: 'link-local',
    why: 'it is the local link, where metadata services and unconfigured devices answer',
  },
  { cidr: 'fe80::/10', name: 'link-local', why: 'it is the local link, where unconfigured devices answer' },
  { cidr: '255.255.255.255/32', name: 'broadcast', why: 'it is not one receiver' },
  { cidr: '224.0.0.0/4', name: 'multicast', why: 'it is not one receiver' },
  { cidr: 'ff00::/8', name: 'multicast', why: 'it is not one receiver' },
  { cidr: '240.0.0.0/4', name: 'reserved', why: 'it is not routed on the internet' },
];

// Reachable only when WEBHOOK_ALLOWED_NETWORKS (or a test's testNetworks) lists the address.
const PRIVATE: Range[] = [
  { cidr: '10.0.0.0/8', name: 'private', why: '' },
  { cidr: '172.16.0.0/12', name: 'private', why: '' },
  { cidr: '192.168.0.0/16', name: 'private', why: '' },
  { cidr: '100.64.0.0/10', name: 'shared carrier-grade NAT', why: '' },
  { cidr: 'fc00::/7', name: 'unique local (private)', why: '' },
  { cidr: 'fec0::/10', name: 'site-local (private)', why: '' },
];

const PRIVATE_CIDRS = PRIVATE.map((range) => range.cidr);
const MAX_URL_LENGTH = 2048;

// ------------------------------------------------------------------ addresses and CIDRs

type Family = 'ipv4' | 'ipv6';
interface Cidr {
  family: Family;
  network: bigint;
  prefix: number;
  text: string;
}

function ipv4Value(address: string): bigint {
  return address.split('.').reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

/** The eight 16-bit groups of an IPv6 address (a zone `%eth0` is dropped), or undefined when it is not one. */
export function ipv6Groups(text: string): number[] | undefined {
  const address = text.split('%')[0];
  if (!isIPv6(address)) return undefined;
  let head = address;
  const tail: number[] = [];
  const last = address.slice(address.lastIndexOf(':') + 1);
  if (last.includes('.')) {
    const v4 = Number(ipv4Value(last));
    tail.push(v4 >>> 16, v4 & 0xffff);
    head = address.slice(0, address.length - last.length);
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const [left, right] = head.split('::');
  const leftGroups = left ? left.split(':').map((group) => parseInt(group, 16)) : [];
  const rightGroups = [...(right ? right.split(':').map((group) => parseInt(group, 16)) : []), ...tail];
  const zeros = right === undefined ? [] : new Array<number>(8 - leftGroups.length - rightGroups.length).fill(0);
  return [...leftGroups, ...zeros, ...rightGroups];
}

function ipv6Value(groups: number[]): bigint {
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

function ipv4Text(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

/**
 * The IPv4 address an IPv6 address carries and delivers to, if any: IPv4-mapped (::ffff:a.b.c.d), IPv4-translated
 * (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d), NAT64 (64:ff9b::/96 and 64:ff9b:1::/48) and 6to4 (2002::/16).
 */
export function embeddedIPv4(groups: number[]): string | undefined {
  const low32 = ((groups[6] << 16) | groups[7]) >>> 0;
  const zeroUntil = (index: number) => groups.slice(0, index).every((group) => group === 0);
  if (zeroUntil(5) && groups[5] === 0xffff) return ipv4Text(low32);
  if (zeroUntil(4) && groups[4] === 0xffff && groups[5] === 0) return ipv4Text(low32);
  if (zeroUntil(6) && low32 > 1) return ipv4Text(low32);
  if (
    groups[0] === 0x64 &&
    groups[1] === 0xff9b &&
    (groups.slice(2, 6).every((group) => group === 0) || groups[2] === 1)
  )
    return ipv4Text(low32);
  if (groups[0] === 0x2002) return ipv4Text(((groups[1] << 16) | groups[2]) >>> 0);
  return undefined;
}

/** A CIDR (`10.20.0.0/16`, `fd12:3456::/48`, or one address), or a sentence saying what is wrong with it. */
export function parseCidr(text: string): Cidr | string {
  const [address, prefixText, extra] = text.split('/');
  const family: Family | undefined = isIPv4(address)
    ? 'ipv4'
    : isIPv6(address) && !address.includes('%')
      ? 'ipv6'
      : undefined;
  if (!family || extra !== undefined)
    return `${text} is not a CIDR; write an address and a prefix length, e.g. 10.20.0.0/16 or fd12:3456::/48`;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))
    return `${text}: the prefix length must be a whole number from 0 to ${bits}`;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return `${text}: the prefix length must be a whole number from 0 to ${bits}`;
  const value = family === 'ipv4' ? ipv4Value(address) : ipv6Value(ipv6Groups(address)!);
  const hostBits = BigInt(bits - prefix);
  const network = (value >> hostBits) << hostBits;
  if (network !== value)
    return `${text} has bits set after its /${prefix}; write the network address (${formatNetwork(family, network)}/${prefix})`;
  return { family, network, prefix, text: `${formatNetwork(family, network)}/${prefix}` };
}

function formatNetwork(family: Family, value: bigint): string {
  if (family === 'ipv4') return ipv4Text(Number(value));
  const groups = Array.from({ length: 8 }, (_, index) =>
    Number((value >> BigInt(16 * (7 - index))) & 0xffffn).toString(16),
  );
  return groups
    .join(':')
    .replace(/(^|:)0(:0)+(:|$)/, '::')
    .replace(/:{3,}/, '::');
}

function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || inner.prefix < outer.prefix) return false;
  const shift = BigInt((outer.family === 'ipv4' ? 32 : 128) - outer.prefix);
  return inner.network >> shift === outer.network >> shift;
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const text of cidrs) {
    const cidr = parseCidr(text);
    if (typeof cidr === 'string') throw new Error(cidr);
    list.addSubnet(formatNetwork(cidr.family, cidr.network), cidr.prefix, cidr.family);
  }
  return list;
}

const compiled = [...REFUSED, ...PRIVATE].map((range) => ({
  ...range,
  list: blockListOf([range.cidr]),
  private: PRIVATE.includes(range),
}));
const PRIVATE_RANGES = PRIVATE_CIDRS.map((text) => parseCidr(text) as Cidr);

/**
 * WEBHOOK_ALLOWED_NETWORKS: comma-separated CIDRs, each inside a private range (the list can open a closed government
 * network, never loopback, link-local, metadata or the internet at large). Returns the normalised list or a problem.
 */
export function parseAllowedNetworks(value: string): { networks: string[] } | { problem: string } {
  const networks: string[] = [];
  for (const text of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const cidr = parseCidr(text);
    if (typeof cidr === 'string') return { problem: cidr };
    if (!PRIVATE_RANGES.some((range) => contains(range, cidr))) {
      return {
        problem: `${text} is not inside a private range (${PRIVATE_CIDRS.join(', ')}); list only the closed network's private CIDRs`,
      };
    }
    networks.push(cidr.text);
  }
  return { networks };
}

// ------------------------------------------------------------------ the rules

/** A programming error, loud on purpose: production code never opens loopback for tests. */
function assertNoTestNetworksInProduction(policy: AddressPolicy): void {
  if (policy.production && policy.testNetworks?.length)
    throw new Error('testNetworks is for tests and cannot be used in production');
}

/** Why the hub may not connect to `address` (an IP), or undefined when it may. */
export function addressRefusal(address: string, policy: AddressPolicy): string | undefined {
  assertNoTestNetworksInProduction(policy);
  const bare = address.split('%')[0];
  const family = isIP(bare);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 6) {
    const groups = ipv6Groups(bare)!;
    const carried = embeddedIPv4(groups);
    if (carried) {
      const refusal = addressRefusal(carried, policy);
      return refusal && `${address} carries the IPv4 address ${carried}, and ${refusal}`;
    }
  }
  const type: Family = family === 4 ? 'ipv4' : 'ipv6';
  const range = compiled.find((candidate) => candidate.list.check(bare, type));
  if (!range) return undefined;
  const openedBy = (cidrs: readonly string[]) => cidrs.length > 0 && blockListOf(cidrs).check(bare, type);
  if (!range.private) {
    if (range.testMayOpen && openedBy(policy.testNetworks ?? [])) return undefined;
    return `${bare} is ${range.name} (${range.cidr}), which the hub never calls: ${range.why}; give the partner's public address`;
  }
  if (openedBy([...policy.allowedNetworks, ...(policy.testNetworks ?? [])])) return undefined;
  return `${bare} is a ${range.name} address (${range.cidr}); give the partner's public address, or have the hub's operators list its closed network in WEBHOOK_ALLOWED_NETWORKS`;
}

/** Names that always mean this machine, refused without asking a resolver. */
function isLocalName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.localdomain';
}

/**
 * Checks an endpoint URL before anything is saved or sent: https (http outside production), no credentials, a host,
 * and an IP literal (in any form URL parsing normalises: decimal, octal, hex, IPv4-mapped IPv6) outside the refused
 * ranges. A host name passes here; its addresses are checked after resolution (`resolveEndpoint`).
 */
export function checkEndpointUrl(text: string, policy: AddressPolicy): EndpointCheck {
  assertNoTestNetworksInProduction(policy);
  if (text.length > MAX_URL_LENGTH)
    return { ok: false, reason: `is ${text.length} characters long; give an address of at most ${MAX_URL_LENGTH}` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return {
      ok: false,
      reason: 'is not an absolute URL; give one such as https://partner.example.gov.cn/hub-webhooks',
    };
  }
  if (url.protocol === 'http:' && policy.production) {
    return { ok: false, reason: 'uses http://, which production refuses: partners receive webhooks over https://' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, reason: `uses ${url.protocol}//; use https://` };
  if (url.username || url.password) {
    return {
      ok: false,
      reason: 'carries a user name or password; remove them (a webhook is authenticated by its signature header)',
    };
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host)
    return {
      ok: false,
      reason: "has no host name; give the partner's host, e.g. https://partner.example.gov.cn/hub-webhooks",
    };
  if (isLocalName(host))
    return { ok: false, reason: `names ${host}, which is this machine (loopback); give the partner's own address` };
  if (isIP(host) === 0) return { ok: true, url, host };
  const refusal = addressRefusal(host, policy);
  return refusal ? { ok: false, reason: `is refused: ${refusal}` } : { ok: true, url, host, ip: host };
}

/** `checkEndpointUrl` for a mutation: the parsed URL, or a BAD_USER_INPUT naming `field` and the reason. */
export function assertEndpointUrl(text: string, policy: AddressPolicy, field = 'url'): URL {
  const check = checkEndpointUrl(text, policy);
  if (!check.ok) throw badInput(field, `${text} ${check.reason}`);
  return check.url;
}
