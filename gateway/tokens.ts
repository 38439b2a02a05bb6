// Bearer tokens: verification at the gateway and issuing for development (the token CLI, tests).
import { jwtVerify, SignJWT, errors as joseErrors } from 'jose';
import type { HubConfig } from '../lib/config';
import { unauthenticated } from '../lib/errors';
import { identitySchema, type Identity } from '../lib/identity';

const ALGORITHMS = ['HS256'];
const CLOCK_SKEW_SECONDS = 30;

function key(config: HubConfig): Uint8Array {
  return new TextEncoder().encode(config.HUB_JWT_SECRET);
}

/**
 * Verifies an Authorization header value and returns the caller's identity, or throws UNAUTHENTICATED saying why.
 *
 * ```ts
 * const identity = await verifyBearer(config, request.headers.authorization);
 * ```
 */
export async function verifyBearer(config: HubConfig, header: string | undefined): Promise<Identity> {
  if (!header) throw unauthenticated('send Authorization: Bearer <token>; `npm run --silent token -- --role ROLE --platform CODE` makes one');
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(match[1], key(config), {
      algorithms: ALGORITHMS,
      issuer: config.HUB_JWT_ISSUER,
      audience: config.HUB_JWT_AUDIENCE,
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('the token has expired; get a new one');
    if (error instanceof joseErrors.JWTClaimValidationFailed) throw unauthenticated(`the token's ${error.claim} claim is not accepted`);
    throw unauthenticated('the token is not valid for this hub');
  }
  const parsed = identitySchema.safeParse(payload);
  if (!parsed.success) throw unauthenticated(`the token's claims are incomplete: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
  return parsed.data;
}

/** Issues a token for an identity, signed with the configured secret (development and tests). */
export async function issueToken(config: HubConfig, identity: Identity, expiresIn = '12h'): Promise<string> {
  const { sub, ...claims } = identity;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(config.HUB_JWT_ISSUER)
    .setAudience(config.HUB_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(config));
}
