// Bearer tokens: verification at the gateway (only the configured algorithms and keys) and issuing for development.
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  importSPKI,
  jwtVerify,
  errors as joseErrors,
  type JWTVerifyGetKey,
  type KeyLike,
} from 'jose';
import type { HubConfig } from '../lib/config';
import { ConfigError } from '../lib/config';
import { unauthenticated } from '../lib/errors';
import { identitySchema, type Identity } from '../lib/identity';
import type { PlatformDirectory } from './platforms';

type VerificationKey = Uint8Array | KeyLike | JWTVerifyGetKey;

// Keys are read from their files once per configuration, not per request.
const keys = new WeakMap<HubConfig, Promise<VerificationKey>>();

/**
 * The key that verifies tokens under this configuration: the HMAC secret for HS* algorithms, else the public key of
 * HUB_JWT_PUBLIC_KEY_FILE (PEM) or the key set of HUB_JWT_JWKS_FILE. A public-key configuration never falls back to
 * the secret, so a token signed with HS256 over the public key (the classic algorithm switch) finds no key.
 *
 * ```ts
 * const key = await verificationKey(config);
 * ```
 */
export function verificationKey(config: HubConfig): Promise<VerificationKey> {
  let key = keys.get(config);
  if (!key) {
    key = loadVerificationKey(config);
    // A failed load is not cached, so fixing the file and retrying works.
    key.catch(() => keys.delete(config));
    keys.set(config, key);
  }
  return key;
}

async function loadVerificationKey(config: HubConfig): Promise<VerificationKey> {
  const [first] = config.HUB_JWT_ALGORITHMS;
  if (first.startsWith('HS')) return new TextEncoder().encode(config.HUB_JWT_SECRET);
  if (config.HUB_JWT_JWKS_FILE) {
    const file = config.HUB_JWT_JWKS_FILE;
    let jwks: unknown;
    try {
      jwks = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError(
        `HUB_JWT_JWKS_FILE: ${file} is not a readable JSON key set (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    if (!jwks || typeof jwks !== 'object' || !Array.isArray((jwks as { keys?: unknown }).keys)) {
      throw new ConfigError(`HUB_JWT_JWKS_FILE: ${file} must hold {"keys": [...]}`);
    }
    for (const jwk of (jwks as { keys: Record<string, unknown>[] }).keys) {
      if ('d' in jwk || 'k' in jwk)
        throw new ConfigError(
          `HUB_JWT_JWKS_FILE: ${file} holds a private or symmetric key; give the gateway public keys only`,
        );
    }
    return createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
  }
  const file = config.HUB_JWT_PUBLIC_KEY_FILE!;
  try {
    return await importSPKI(readFileSync(file, 'utf8'), first);
  } catch (error) {
    throw new ConfigError(
      `HUB_JWT_PUBLIC_KEY_FILE: ${file} is not a ${first} public key in PEM (SPKI) form (${error instanceof Error ? error.message : String(error)})`,
    );
  }
}

/**
 * Verifies an Authorization header value and returns the caller's identity, or throws UNAUTHENTICATED saying why.
 * Only HUB_JWT_ALGORITHMS are accepted (never `none`), `exp` is required, `exp` and `nbf` are checked with
 * HUB_JWT_CLOCK_SKEW of tolerance, `iss` and `aud` must be the configured ones, the token may live at most
 * HUB_JWT_MAX_LIFETIME, and, given the hub's platform directory, its `platform` claim must name one of the hub's platforms.
 *
 * ```ts
 * const identity = await verifyBearer(config, request.headers.authorization);
 * ```
 */
export async function verifyBearer(
  config: HubConfig,
  header: string | undefined,
  platforms?: PlatformDirectory,
): Promise<Identity> {
  if (!header) {
    // The token command signs with the development secret: only a development hub may point callers at it.
    const where =
      config.HUB_ENV === 'production'
        ? "your platform's identity provider issues it"
        : '`npm run --silent token -- --role ROLE --platform CODE` makes one';
    throw unauthenticated(`send Authorization: Bearer <token>; ${where}`);
  }
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  const key = await verificationKey(config);
  let payload: Record<string, unknown>;
  try {
    const options = {
      algorithms: config.HUB_JWT_ALGORITHMS,
      issuer: config.HUB_JWT_ISSUER,
      audience: config.HUB_JWT_AUDIENCE,
      clockTolerance: Math.round(config.HUB_JWT_CLOCK_SKEW / 1000),
      requiredClaims: ['exp', 'sub'],
    };
    // jose's overloads separate a key from a key-set function; the branch keeps both typed.
    ({ payload } =
      typeof key === 'function' ? await jwtVerify(match[1], key, options) : await jwtVerify(match[1], key, options));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('the token has expired; get a new one');
    if (error instanceof joseErrors.JWTClaimValidationFailed)
      throw unauthenticated(`the token's ${error.claim} claim is not accepted`);
    if (error instanceof joseErrors.JOSEAlgNotAllowed)
      throw unauthenticated(
        `the token's algorithm is not accepted; this hub accepts ${config.HUB_JWT_ALGORITHMS.join(', ')}`,
      );
    throw unauthenticated('the token is not valid for this hub');
  }
  refuseLongLived(config, payload);
  const parsed = identitySchema.safeParse(payload);
  if (!parsed.success)
    throw unauthenticated(
      `the token's claims are incomplete: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`,
    );
  if (platforms && !(await platforms.isKnown(parsed.data.platform))) {
    throw unauthenticated(
      `the token's platform claim ${parsed.data.platform} names no platform of this hub; get a token issued for your own platform`,
    );
  }
  return parsed.data;
}

/**
 * A token may live at most HUB_JWT_MAX_LIFETIME: exp − iat when it says when it was issued, else exp − now (plus the
 * clock skew). A leaked token of a hundred years would otherwise outlive every rotation of its signer's key.
 */
function refuseLongLived(config: HubConfig, payload: { exp?: number; iat?: number }): void {
  const exp = payload.exp!;
  const maxSeconds = config.HUB_JWT_MAX_LIFETIME / 1000;
  const hours = (seconds: number) => `${Math.round((seconds / 3600) * 10) / 10}h`;
  if (typeof payload.iat === 'number') {
    if (exp - payload.iat > maxSeconds) {
      throw unauthenticated(
        `the token lives ${hours(exp - payload.iat)} (exp − iat), longer than HUB_JWT_MAX_LIFETIME (${hours(maxSeconds)}); get a token valid for at most that`,
      );
    }
    return;
  }
  const now = Math.floor(Date.now() / 1000);
  if (exp - now > maxSeconds + config.HUB_JWT_CLOCK_SKEW / 1000) {
    throw unauthenticated(
      `the token has no iat and expires in ${hours(exp - now)}, later than HUB_JWT_MAX_LIFETIME (${hours(maxSeconds)}); get a token valid for at most that`,
    );
  }
}

/** Issuing lives in lib (the jobs' service identities need it too); re-exported for the gateway's callers. */
export { issueToken } from '../lib/token-issuer';
