// Issuing bearer tokens under the hub's HMAC secret: for development, tests and the hub's own service identities (the
// reconciliation job reads the supergraph as one). Verification stays with the gateway (gateway/tokens.ts).
import { SignJWT } from 'jose';
import type { HubConfig } from './config';
import type { Identity } from './identity';

/** Issues a token for an identity, signed with the configured HMAC secret (development and tests). */
export async function issueToken(config: HubConfig, identity: Identity, expiresIn = '12h'): Promise<string> {
  const { sub, ...claims } = identity;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(config.HUB_JWT_ISSUER)
    .setAudience(config.HUB_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(config.HUB_JWT_SECRET));
}
