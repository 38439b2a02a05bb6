// The partner endpoint address rules (MASTER-DATA.md, partner endpoints): what a saved URL may point at, in every form
// URL parsing accepts, and WEBHOOK_ALLOWED_NETWORKS, the one way to open a private network.
import {
  addressRefusal,
  assertEndpointUrl,
  checkEndpointUrl,
  embeddedIPv4,
  ipv6Groups,
  parseAllowedNetworks,
  type AddressPolicy,
} from '../lib/endpoint-address';
import { ConfigError, loadConfig } from '../lib/config';
import { codeOf } from '../lib/errors';

const production: AddressPolicy = { production: true, allowedNetworks: [] };
const development: AddressPolicy = { production: false, allowedNetworks: [] };

function reasonOf(url: string, policy: AddressPolicy = production): string {
  const check = checkEndpointUrl(url, policy);
  if (check.ok) throw new Error(`${url} was accepted`);
  return check.reason;
}

describe('endpoint URLs', () => {
  it('accepts a public https address, by name or by IP', () => {
    for (const url of [
      'https://partner.example.gov.cn/hub-webhooks',
      'https://8.8.8.8:8443/x?y=1',
      'https://[2001:4860:4860::8888]/hooks',
    ]) {
      const check = checkEndpointUrl(url, production);
      expect(check).toMatchObject({ ok: true });
    }
    expect(checkEndpointUrl('https://[2001:4860:4860::8888]/hooks', production)).toMatchObject({
      host: '2001:4860:4860::8888',
      ip: '2001:4860:4860::8888',
    });
    expect(checkEndpointUrl('https://partner.example.gov.cn/', production)).not.toHaveProperty('ip');
  });

  it('takes http only outside production, and no other scheme', () => {
    expect(reasonOf('http://partner.example.gov.cn/hooks')).toMatch(/uses http:\/\/, which production refuses/);
    expect(checkEndpointUrl('http://partner.example.gov.cn/hooks', development)).toMatchObject({ ok: true });
    expect(reasonOf('ftp://partner.example.gov.cn/hooks', development)).toBe('uses ftp://; use https://');
    expect(reasonOf('file:///etc/passwd', development)).toBe('uses file://; use https://');
    expect(reasonOf('partner.example.gov.cn/hooks')).toMatch(/is not an absolute URL/);
  });

  it('refuses credentials in the URL', () => {
    expect(reasonOf('https://hub:secret@partner.example.gov.cn/hooks')).toMatch(
      /carries a user name or password; remove them/,
    );
    expect(reasonOf('https://hub@partner.example.gov.cn/hooks')).toMatch(/carries a user name or password/);
  });

  it('refuses names that always mean this machine, and overlong URLs', () => {
    for (const url of ['https://localhost/x', 'https://LOCALHOST./x', 'https://api.localhost/x'])
      expect(reasonOf(url)).toMatch(/which is this machine \(loopback\)/);
    expect(reasonOf(`https://partner.example.gov.cn/${'a'.repeat(2100)}`)).toMatch(/give an address of at most 2048/);
  });

  it('refuses loopback in every IPv4 form URL parsing normalises: dotted, short, decimal, octal, hex, percent-encoded', () => {
    for (const url of [
      'https://127.0.0.1/',
      'https://127.1/',
      'https://2130706433/',
      'https://017700000001/',
      'https://0x7f.1/',
      'https://0x7f000001/',
      'https://127.0.0.1./',
      'https://%31%32%37.0.0.1/',
      'https://127.200.0.9/',
    ]) {
      expect(reasonOf(url)).toMatch(/is loopback \(127\.0\.0\.0\/8\), which the hub never calls/);
    }
  });

  it('refuses link-local, metadata, unspecified, multicast, broadcast and reserved addresses, naming the range', () => {
    const cases: [string, RegExp][] = [
      ['https://169.254.10.20/', /link-local \(169\.254\.0\.0\/16\)/],
      [
        'https://169.254.169.254/latest/meta-data/',
        /metadata service of AWS, GCP, Azure and OpenStack \(169\.254\.169\.254\/32\).*credentials/,
      ],
      ['https://100.100.100.200/latest/meta-data/', /Alibaba Cloud metadata service \(100\.100\.100\.200\/32\)/],
      ['https://168.63.129.16/', /WireServer \(168\.63\.129\.16\/32\)/],
      ['https://[fd00:ec2::254]/', /IPv6 metadata service \(fd00:ec2::254\/128\)/],
      ['https://0.0.0.0/', /unspecified \("this network"\) \(0\.0\.0\.0\/8\)/],
      ['https://0/', /unspecified/],
      ['https://[::]/', /unspecified \(::\/128\)/],
      ['https://224.0.0.251/', /multicast \(224\.0\.0\.0\/4\)/],
      ['https://[ff02::1]/', /multicast \(ff00::\/8\)/],
      ['https://255.255.255.255/', /broadcast \(255\.255\.255\.255\/32\)/],
      ['https://240.1.2.3/', /reserved \(240\.0\.0\.0\/4\)/],
    ];
    for (const [url, reason] of cases) expect(reasonOf(url)).toMatch(reason);
  });

  it('refuses IPv6 loopback and link-local, and IPv4 hidden in IPv6: mapped, translated, compatible, NAT64, 6to4', () => {
    const cases: [string, RegExp][] = [
      ['https://[::1]/', /::1 is loopback \(::1\/128\)/],
      ['https://[0:0:0:0:0:0:0:1]/', /loopback \(::1\/128\)/],
      ['https://[fe80::1]/', /link-local \(fe80::\/10\)/],
      ['https://[febf:ffff::1]/', /link-local \(fe80::\/10\)/],
      ['https://[::ffff:127.0.0.1]/', /carries the IPv4 address 127\.0\.0\.1, and 127\.0\.0\.1 is loopback/],
      ['https://[::ffff:7f00:1]/', /carries the IPv4 address 127\.0\.0\.1/],
      ['https://[::ffff:169.254.169.254]/', /carries the IPv4 address 169\.254\.169\.254, and .*metadata/],
      ['https://[::ffff:0:7f00:1]/', /carries the IPv4 address 127\.0\.0\.1/],
      ['https://[::127.0.0.1]/', /carries the IPv4 address 127\.0\.0\.1/],
      ['https://[64:ff9b::a9fe:a9fe]/', /carries the IPv4 address 169\.254\.169\.254/],
      ['https://[2002:a00:1::]/', /carries the IPv4 address 10\.0\.0\.1, and 10\.0\.0\.1 is a private address/],
    ];
    for (const [url, reason] of cases) expect(reasonOf(url)).toMatch(reason);
    expect(checkEndpointUrl('https://[::ffff:8.8.8.8]/', production)).toMatchObject({ ok: true });
  });

  it('refuses private addresses unless WEBHOOK_ALLOWED_NETWORKS lists their network', () => {
    const privates = [
      'https://10.1.2.3/',
      'https://172.16.0.1/',
      'https://172.31.255.254/',
      'https://192.168.1.10/',
      'https://100.64.0.1/',
      'https://[fd12:3456::1]/',
      'https://[fc00::1]/',
      'https://[::ffff:192.168.1.10]/',
    ];
    for (const url of privates)
      expect(reasonOf(url)).toMatch(
        /address \((10|172|192|100|fc00)[^)]*\); give the partner's public address, or have the hub's operators list its closed network in WEBHOOK_ALLOWED_NETWORKS/,
      );
    expect(checkEndpointUrl('https://172.32.0.1/', production)).toMatchObject({ ok: true });

    const closed: AddressPolicy = {
      production: true,
      allowedNetworks: ['10.20.0.0/16', '192.168.1.0/24', 'fd12:3456::/32'],
    };
    for (const url of [
      'https://10.20.3.4/',
      'https://192.168.1.10/',
      'https://[fd12:3456::1]/',
      'https://[::ffff:10.20.0.9]/',
    ])
      expect(checkEndpointUrl(url, closed)).toMatchObject({ ok: true });
    for (const url of ['https://10.21.0.1/', 'https://192.168.2.1/', 'https://[fd12:3457::1]/'])
      expect(reasonOf(url, closed)).toMatch(/is a .*private.* address .*WEBHOOK_ALLOWED_NETWORKS/);
  });

  it('keeps loopback and metadata refused whatever the allow list opens around them', () => {
    const wide: AddressPolicy = { production: true, allowedNetworks: ['100.64.0.0/10', 'fc00::/7'] };
    expect(checkEndpointUrl('https://100.100.100.199/', wide)).toMatchObject({ ok: true });
    expect(reasonOf('https://100.100.100.200/', wide)).toMatch(/Alibaba Cloud metadata/);
    expect(reasonOf('https://[fd00:ec2::254]/', wide)).toMatch(/IPv6 metadata service/);
  });

  it('lets a test open loopback only outside production, and never metadata', () => {
    const test: AddressPolicy = { production: false, allowedNetworks: [], testNetworks: ['127.0.0.1/32'] };
    expect(checkEndpointUrl('http://127.0.0.1:4567/hooks', test)).toMatchObject({ ok: true, ip: '127.0.0.1' });
    expect(reasonOf('http://127.0.0.2:4567/hooks', test)).toMatch(/loopback/);
    expect(reasonOf('http://169.254.169.254/', { ...test, testNetworks: ['169.254.0.0/16'] })).toMatch(/metadata/);
    expect(() => checkEndpointUrl('https://partner.example.gov.cn/', { ...test, production: true })).toThrow(
      /testNetworks is for tests and cannot be used in production/,
    );
  });

  it('gives a mutation a BAD_USER_INPUT naming the field, the URL and the reason', () => {
    expect(assertEndpointUrl('https://partner.example.gov.cn/hooks', production).hostname).toBe(
      'partner.example.gov.cn',
    );
    let caught: unknown;
    try {
      assertEndpointUrl('https://2130706433/hooks', production);
    } catch (error) {
      caught = error;
    }
    expect(codeOf(caught)).toBe('BAD_USER_INPUT');
    expect((caught as Error).message).toBe(
      "url: https://2130706433/hooks is refused: 127.0.0.1 is loopback (127.0.0.0/8), which the hub never calls: it is this machine's own services; give the partner's public address",
    );
  });
});

describe('addresses', () => {
  it('reads IPv6 groups and the IPv4 address they carry', () => {
    expect(ipv6Groups('::ffff:1.2.3.4')).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups('fe80::1%eth0')).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups('2001:db8:1:2:3:4:5:6')).toEqual([0x2001, 0xdb8, 1, 2, 3, 4, 5, 6]);
    expect(ipv6Groups('10.0.0.1')).toBeUndefined();
    expect(embeddedIPv4(ipv6Groups('::ffff:a9fe:a9fe')!)).toBe('169.254.169.254');
    expect(embeddedIPv4(ipv6Groups('2001:db8::1')!)).toBeUndefined();
    expect(embeddedIPv4(ipv6Groups('::1')!)).toBeUndefined();
  });

  it('checks resolved addresses, zone ids included', () => {
    expect(addressRefusal('fe80::1%eth0', production)).toMatch(/link-local/);
    expect(addressRefusal('93.184.216.34', production)).toBeUndefined();
    expect(addressRefusal('not-an-ip', production)).toBe('not-an-ip is not an IP address');
  });
});

describe('WEBHOOK_ALLOWED_NETWORKS', () => {
  it('normalises a list of private CIDRs and single addresses', () => {
    expect(parseAllowedNetworks(' 10.0.0.0/8, 192.168.1.0/24 ,fd12:3456:0:0::/48,10.9.9.9')).toEqual({
      networks: ['10.0.0.0/8', '192.168.1.0/24', 'fd12:3456::/48', '10.9.9.9/32'],
    });
    expect(parseAllowedNetworks('')).toEqual({ networks: [] });
  });

  it('refuses what is not a private CIDR, saying what to write instead', () => {
    expect(parseAllowedNetworks('10.1.2.3/8')).toEqual({
      problem: '10.1.2.3/8 has bits set after its /8; write the network address (10.0.0.0/8)',
    });
    expect(parseAllowedNetworks('10.0.0.0/33')).toEqual({
      problem: '10.0.0.0/33: the prefix length must be a whole number from 0 to 32',
    });
    expect(parseAllowedNetworks('intranet')).toEqual({
      problem: 'intranet is not a CIDR; write an address and a prefix length, e.g. 10.20.0.0/16 or fd12:3456::/48',
    });
    for (const wide of [
      '0.0.0.0/0',
      '127.0.0.0/8',
      '169.254.0.0/16',
      '8.8.8.0/24',
      '10.0.0.0/7',
      'fc00::/6',
      '::1/128',
    ]) {
      expect(parseAllowedNetworks(wide)).toEqual({
        problem: expect.stringMatching(
          /is not inside a private range \(10\.0\.0\.0\/8, .*\); list only the closed network's private CIDRs/,
        ),
      });
    }
  });

  it('is validated at config load, the message naming the variable', () => {
    expect(loadConfig({ WEBHOOK_ALLOWED_NETWORKS: '10.20.0.0/16,fd00::/8' }).WEBHOOK_ALLOWED_NETWORKS).toEqual([
      '10.20.0.0/16',
      'fd00::/8',
    ]);
    expect(loadConfig({}).WEBHOOK_ALLOWED_NETWORKS).toEqual([]);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_NETWORKS: '10.20.0.0/16,127.0.0.0/8' })).toThrow(ConfigError);
    expect(() => loadConfig({ WEBHOOK_ALLOWED_NETWORKS: '10.20.0.0/16,127.0.0.0/8' })).toThrow(
      /WEBHOOK_ALLOWED_NETWORKS: 127\.0\.0\.0\/8 is not inside a private range/,
    );
  });
});
