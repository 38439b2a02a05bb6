// Bearer tokens: only configured algorithms and keys, exp/nbf with a small skew, iss and aud; production refuses weak secrets.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import {
  DEVELOPMENT_INTERNAL_SECRET,
  DEVELOPMENT_JWT_SECRET,
  DEVELOPMENT_WEBHOOK_SECRET,
  loadConfig,
  type HubConfig,
} from '../lib/config';
import { codeOf } from '../lib/errors';
import { issueToken, verifyBearer } from '../gateway/tokens';

const dir = mkdtempSync(join(tmpdir(), 'hub-tokens-'));
const now = () => Math.floor(Date.now() / 1000);
const claims = { role: 'PLATFORM_OPERATOR', platform: '411700' } as const;
const identity = { sub: 'op-1', ...claims } as const;
const secret = new TextEncoder().encode(DEVELOPMENT_JWT_SECRET);

function hmacConfig(overrides: Record<string, string> = {}): HubConfig {
  return loadConfig({ HUB_ENV: 'test', ...overrides });
}

function sign(
  payload: JWTPayload,
  options: { alg?: string; key?: Uint8Array | KeyLike; kid?: string; iss?: string; aud?: string } = {},
) {
  const jwt = new SignJWT({ ...claims, ...payload })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', ...(options.kid ? { kid: options.kid } : {}) })
    .setSubject('op-1')
    .setIssuer(options.iss ?? 'remote-evaluation-hub')
    .setAudience(options.aud ?? 'remote-evaluation-hub')
    .setIssuedAt();
  if (payload.exp === undefined) jwt.setExpirationTime('1h');
  return jwt.sign(options.key ?? secret);
}

async function refusal(config: HubConfig, token: string): Promise<string> {
  try {
    await verifyBearer(config, `Bearer ${token}`);
  } catch (error) {
    expect(codeOf(error)).toBe('UNAUTHENTICATED');
    return (error as Error).message;
  }
  throw new Error('the token was accepted');
}

describe('HMAC tokens (development)', () => {
  const config = hmacConfig();

  it('accepts a token the hub issued and returns its identity', async () => {
    await expect(verifyBearer(config, `Bearer ${await issueToken(config, identity)}`)).resolves.toEqual(identity);
  });

  it('refuses alg none, an unconfigured HMAC algorithm and a wrong secret', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ ...claims, sub: 'op-1', iss: 'remote-evaluation-hub', aud: 'remote-evaluation-hub', exp: now() + 600 })}.`;
    expect(await refusal(config, unsigned)).toMatch(/algorithm is not accepted|not valid/);
    expect(await refusal(config, await sign({}, { alg: 'HS512' }))).toMatch(
      /algorithm is not accepted; this hub accepts HS256/,
    );
    expect(await refusal(config, await sign({}, { key: new TextEncoder().encode('x'.repeat(64)) }))).toMatch(
      /not valid for this hub/,
    );
  });

  it('enforces exp and nbf with the configured skew, and requires exp', async () => {
    expect(await refusal(config, await sign({ exp: now() - 31 }))).toMatch(/expired/);
    await expect(verifyBearer(config, `Bearer ${await sign({ exp: now() - 20 })}`)).resolves.toMatchObject(identity);
    expect(await refusal(config, await sign({ nbf: now() + 60 }))).toMatch(/nbf/);
    await expect(verifyBearer(config, `Bearer ${await sign({ nbf: now() + 20 })}`)).resolves.toMatchObject(identity);
    const noExpiry = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('op-1')
      .setIssuer('remote-evaluation-hub')
      .setAudience('remote-evaluation-hub')
      .sign(secret);
    expect(await refusal(config, noExpiry)).toMatch(/exp/);
    const strict = hmacConfig({ HUB_JWT_CLOCK_SKEW: '5s' });
    expect(await refusal(strict, await sign({ exp: now() - 20 }))).toMatch(/expired/);
  });

  it('refuses a token that lives longer than HUB_JWT_MAX_LIFETIME (24 h by default), with or without iat', async () => {
    const issued = now();
    await expect(
      verifyBearer(config, `Bearer ${await sign({ iat: issued, exp: issued + 23 * 3600 })}`),
    ).resolves.toEqual(identity);
    expect(await refusal(config, await sign({ iat: issued, exp: issued + 25 * 3600 }))).toMatch(
      /lives 25h \(exp − iat\), longer than HUB_JWT_MAX_LIFETIME \(24h\)/,
    );
    // A hundred years.
    expect(await refusal(config, await sign({ iat: issued, exp: issued + 100 * 365 * 86400 }))).toMatch(
      /HUB_JWT_MAX_LIFETIME/,
    );
    // Without iat, measured from now: a token issued long ago cannot pass for a young one by leaving iat out.
    const withoutIat = (exp: number) =>
      new SignJWT({ ...claims, exp })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('op-1')
        .setIssuer('remote-evaluation-hub')
        .setAudience('remote-evaluation-hub')
        .sign(secret);
    await expect(verifyBearer(config, `Bearer ${await withoutIat(now() + 3600)}`)).resolves.toEqual(identity);
    expect(await refusal(config, await withoutIat(now() + 100 * 365 * 86400))).toMatch(/no iat.*HUB_JWT_MAX_LIFETIME/);
    // Configurable.
    const short = hmacConfig({ HUB_JWT_MAX_LIFETIME: '1h' });
    expect(await refusal(short, await sign({ iat: issued, exp: issued + 2 * 3600 }))).toMatch(
      /longer than HUB_JWT_MAX_LIFETIME \(1h\)/,
    );
    await expect(verifyBearer(short, `Bearer ${await sign({ iat: issued, exp: issued + 1800 })}`)).resolves.toEqual(
      identity,
    );
  });

  it('checks issuer and audience', async () => {
    expect(await refusal(config, await sign({}, { iss: 'someone-else' }))).toMatch(/iss/);
    expect(await refusal(config, await sign({}, { aud: 'another-service' }))).toMatch(/aud/);
  });

  it('refuses a missing or malformed header and incomplete claims', async () => {
    await expect(verifyBearer(config, undefined)).rejects.toThrow(/Authorization: Bearer/);
    await expect(verifyBearer(config, 'Basic abc')).rejects.toThrow(/must be "Bearer <token>"/);
    expect(await refusal(config, await sign({ role: 'SUPERVISOR' }))).toMatch(/department/);
    expect(await refusal(config, await sign({ role: 'ROOT' }))).toMatch(/claims are incomplete/);
  });
});

describe('public-key tokens (production)', () => {
  it('verifies RS256 with a PEM key and refuses the HS256 switch signed over that public key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const file = join(dir, 'rs256.pem');
    writeFileSync(file, pem);
    const config = hmacConfig({ HUB_JWT_ALGORITHMS: 'RS256', HUB_JWT_PUBLIC_KEY_FILE: file });
    await expect(verifyBearer(config, `Bearer ${await sign({}, { alg: 'RS256', key: privateKey })}`)).resolves.toEqual(
      identity,
    );
    expect(await refusal(config, await sign({}, { alg: 'HS256', key: new TextEncoder().encode(pem) }))).toMatch(
      /algorithm is not accepted/,
    );
    // The development secret is worthless once public keys are configured.
    expect(await refusal(config, await issueToken(config, identity))).toMatch(/algorithm is not accepted/);
    const other = await generateKeyPair('RS256');
    expect(await refusal(config, await sign({}, { alg: 'RS256', key: other.privateKey }))).toMatch(/not valid/);
  });

  it('verifies ES256 against a JWKS file by kid, refuses an unknown kid and a key set holding a private key', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const file = join(dir, 'jwks.json');
    writeFileSync(
      file,
      JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }),
    );
    const config = hmacConfig({ HUB_JWT_ALGORITHMS: 'ES256', HUB_JWT_JWKS_FILE: file });
    await expect(
      verifyBearer(config, `Bearer ${await sign({}, { alg: 'ES256', key: privateKey, kid: 'k1' })}`),
    ).resolves.toEqual(identity);
    expect(await refusal(config, await sign({}, { alg: 'ES256', key: privateKey, kid: 'k2' }))).toMatch(/not valid/);

    const leaky = join(dir, 'leaky.json');
    writeFileSync(leaky, JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'k1' }] }));
    const leakyConfig = hmacConfig({ HUB_JWT_ALGORITHMS: 'ES256', HUB_JWT_JWKS_FILE: leaky });
    await expect(verifyBearer(leakyConfig, 'Bearer x.y.z')).rejects.toThrow(/private or symmetric key/);
  });
});

describe('configuration', () => {
  const strong = {
    HUB_JWT_SECRET: 'jwt-3f9c0a7d1e5b8264c0d9a1f7e3b5c8d2',
    HUB_INTERNAL_SECRET: 'internal-7a2e9d4c1b6f0835e2a7d9c4',
    WEBHOOK_SECRET: 'webhook-c4e1a9f7d2b8063e5a1c7f9d4b2',
  };
  it.each([
    [
      'the development JWT secret',
      { ...strong, HUB_JWT_SECRET: DEVELOPMENT_JWT_SECRET },
      /HUB_JWT_SECRET: the secret is the development default; production needs/,
    ],
    [
      'the development internal secret',
      { ...strong, HUB_INTERNAL_SECRET: DEVELOPMENT_INTERNAL_SECRET },
      /HUB_INTERNAL_SECRET: the secret is the development default/,
    ],
    ['no secrets at all', {}, /HUB_JWT_SECRET: the secret is the development default/],
    [
      'the development webhook secret',
      { ...strong, WEBHOOK_SECRET: DEVELOPMENT_WEBHOOK_SECRET },
      /WEBHOOK_SECRET: the secret is the development default/,
    ],
    [
      'a short secret',
      { ...strong, HUB_JWT_SECRET: 'short-secret' },
      /HUB_JWT_SECRET: the secret has 12 characters, fewer than 32.*at least 32 characters/,
    ],
    [
      'a secret of 32 spaces',
      { ...strong, HUB_JWT_SECRET: ' '.repeat(32) },
      /HUB_JWT_SECRET: the secret uses only 1 different characters, fewer than 10/,
    ],
    [
      'an internal secret of two repeated letters',
      { ...strong, HUB_INTERNAL_SECRET: 'ab'.repeat(20) },
      /HUB_INTERNAL_SECRET: the secret uses only 2 different characters/,
    ],
    [
      'a webhook secret of one letter',
      { ...strong, WEBHOOK_SECRET: 'w'.repeat(40) },
      /WEBHOOK_SECRET: the secret uses only 1 different characters/,
    ],
    ['one secret for both', { ...strong, HUB_INTERNAL_SECRET: strong.HUB_JWT_SECRET }, /must differ/],
  ])('production refuses to start with %s', (_what, env, message) => {
    expect(() => loadConfig({ HUB_ENV: 'production', ...env })).toThrow(message);
  });

  it('production starts with strong secrets, or with a public key and no JWT secret', () => {
    expect(loadConfig({ HUB_ENV: 'production', ...strong }).HUB_JWT_ALGORITHMS).toEqual(['HS256']);
    // What the documentation says to run: 32 random bytes in hex.
    const hex = () => randomBytes(32).toString('hex');
    expect(
      loadConfig({ HUB_ENV: 'production', HUB_JWT_SECRET: hex(), HUB_INTERNAL_SECRET: hex(), WEBHOOK_SECRET: hex() })
        .HUB_ENV,
    ).toBe('production');
    const file = join(dir, 'any.pem');
    writeFileSync(file, 'unused');
    expect(
      loadConfig({
        HUB_ENV: 'production',
        HUB_INTERNAL_SECRET: strong.HUB_INTERNAL_SECRET,
        WEBHOOK_SECRET: strong.WEBHOOK_SECRET,
        HUB_JWT_ALGORITHMS: 'RS256',
        HUB_JWT_PUBLIC_KEY_FILE: file,
      }).HUB_JWT_ALGORITHMS,
    ).toEqual(['RS256']);
  });

  it.each([
    ['mixed algorithm families', { HUB_JWT_ALGORITHMS: 'HS256,RS256', HUB_JWT_PUBLIC_KEY_FILE: '/k.pem' }, /not both/],
    ['an unknown algorithm', { HUB_JWT_ALGORITHMS: 'none' }, /HUB_JWT_ALGORITHMS/],
    ['public-key algorithms without a key', { HUB_JWT_ALGORITHMS: 'RS256' }, /needs HUB_JWT_PUBLIC_KEY_FILE/],
    [
      'one PEM key for two algorithms',
      { HUB_JWT_ALGORITHMS: 'RS256,ES256', HUB_JWT_PUBLIC_KEY_FILE: '/k.pem' },
      /exactly one algorithm/,
    ],
    ['a skew over five minutes', { HUB_JWT_CLOCK_SKEW: '10m' }, /HUB_JWT_CLOCK_SKEW: at most 5m/],
  ])('refuses %s', (_what, env, message) => {
    expect(() => loadConfig({ HUB_ENV: 'test', ...env })).toThrow(message);
  });
});
