// Who is calling: the roles of DOMAIN.md, and the signed identity the gateway forwards to subgraphs.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { z } from 'zod';
import { openRedis } from './redis';

export const ROLES = [
  'PROVINCIAL_ADMIN',
  'PLATFORM_OPERATOR',
  'SUPERVISOR',
  'AGENCY',
  'EXPERT',
  'PARTNER_SYSTEM',
] as const;
export type Role = (typeof ROLES)[number];
export const DEPARTMENTS = ['FINANCE', 'HOUSING_AND_CONSTRUCTION', 'TRANSPORT', 'WATER_RESOURCES'] as const;
export type Department = (typeof DEPARTMENTS)[number];

export const identitySchema = z
  .object({
    sub: z.string().min(1).max(200),
    role: z.enum(ROLES),
    platform: z.string().regex(/^\d{6}$/, 'platform must be a six-digit region code'),
    department: z.enum(DEPARTMENTS).optional(),
    org: z.string().min(1).max(200).optional(),
    expert: z.string().min(1).max(100).optional(),
  })
  .superRefine((value, ctx) => {
    if (value.role === 'SUPERVISOR' && !value.department)
      ctx.addIssue({ code: 'custom', message: 'a SUPERVISOR needs a department claim' });
    if (value.role === 'AGENCY' && !value.org)
      ctx.addIssue({ code: 'custom', message: 'an AGENCY needs an org claim' });
    if (value.role === 'EXPERT' && !value.expert)
      ctx.addIssue({ code: 'custom', message: 'an EXPERT needs an expert claim' });
  });

export type Identity = z.infer<typeof identitySchema>;

export const IDENTITY_HEADER = 'x-hub-identity';
export const SIGNATURE_HEADER = 'x-hub-signature';

function mac(secret: string, timestamp: string, nonce: string, encodedIdentity: string, body: string): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', secret).update(`${timestamp}.${nonce}.${encodedIdentity}.${bodyHash}`).digest('hex');
}

/** A fresh nonce for one signed request: 128 random bits, hex. */
export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Signs an identity for one request body: the subgraph checks the identity, the body, the time and the nonce together,
 * and accepts each nonce once.
 *
 * ```ts
 * const headers = signIdentity(secret, identity, JSON.stringify(body));
 * ```
 */
export function signIdentity(
  secret: string,
  identity: Identity,
  body: string,
  now: number = Date.now(),
  nonce: string = newNonce(),
): Record<string, string> {
  const encoded = encodeIdentity(identity);
  return { [IDENTITY_HEADER]: encoded, [SIGNATURE_HEADER]: signatureFor(secret, encoded, body, now, nonce) };
}

export function encodeIdentity(identity: Identity): string {
  return Buffer.from(JSON.stringify(identity)).toString('base64url');
}

/** The signature header value for an already encoded identity and the exact body sent, under a fresh nonce. */
export function signatureFor(
  secret: string,
  encodedIdentity: string,
  body: string,
  now: number = Date.now(),
  nonce: string = newNonce(),
): string {
  const timestamp = String(now);
  return `t=${timestamp},n=${nonce},v1=${mac(secret, timestamp, nonce, encodedIdentity, body)}`;
}

/** How a subgraph judges the time of a signature. */
export interface SignatureWindow {
  /** How far in the past a signature may be dated (HUB_SIGNATURE_MAX_AGE). */
  maxAgeMs: number;
  /** How far in the future (HUB_SIGNATURE_CLOCK_SKEW): the gateway's clock may run a little ahead, not a minute. */
  skewMs: number;
}

export type VerifiedIdentity =
  | {
      ok: true;
      identity: Identity;
      nonce: string;
      /** Until when the signature is valid, so until when its nonce must be remembered. */ validUntil: number;
    }
  | { ok: false; reason: string };

/**
 * Checks the signed identity headers of a request: the signature, its time and the identity's shape. Whether the nonce
 * was seen before is the NonceRegistry's question, asked after this one (only a genuine signature's nonce is recorded).
 */
export function verifySignedIdentity(
  secret: string,
  headers: { identity?: string; signature?: string },
  body: string,
  window: SignatureWindow,
  now: number = Date.now(),
): VerifiedIdentity {
  if (!headers.identity || !headers.signature)
    return { ok: false, reason: 'the request carries no signed identity; call the hub through its gateway' };
  const match = /^t=(\d{1,15}),n=([0-9a-f]{32}),v1=([0-9a-f]{64})$/.exec(headers.signature);
  if (!match) return { ok: false, reason: 'the identity signature is malformed' };
  const [, timestamp, nonce, given] = match;
  const signedAt = Number(timestamp);
  if (now - signedAt > window.maxAgeMs) return { ok: false, reason: 'the identity signature is stale' };
  if (signedAt - now > window.skewMs) return { ok: false, reason: 'the identity signature is dated in the future' };
  const expected = Buffer.from(mac(secret, timestamp, nonce, headers.identity, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex')))
    return { ok: false, reason: 'the identity signature does not match' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(headers.identity, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'the identity header is not valid JSON' };
  }
  const parsed = identitySchema.safeParse(decoded);
  if (!parsed.success) return { ok: false, reason: 'the identity header does not describe a known role' };
  return { ok: true, identity: parsed.data, nonce, validUntil: signedAt + window.maxAgeMs };
}

/** Remembers the nonces of accepted signatures for as long as those signatures are valid, so each is accepted once. */
export interface NonceRegistry {
  /** True the first time a nonce is claimed before `validUntil`; false for every later claim (a replay). */
  claim(nonce: string, validUntil: number, now?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** Nonces remembered in this process when Redis does not answer: bounded, the oldest forgotten first. */
const LOCAL_NONCES = 100_000;

/**
 * A registry in Redis (`SET key 1 NX PX`), shared by every replica of every subgraph: a nonce claimed at one is refused
 * at all of them. One gateway request goes to one subgraph, so a single namespace also refuses a capture replayed to
 * another subgraph. While Redis does not answer, a bounded map in this process stands in (a replay to the same
 * process is still refused; one to another replica is not until Redis is back).
 *
 * ```ts
 * const nonces = redisNonceRegistry(config.REDIS_URL, config.HUB_QUEUE_PREFIX);
 * if (!(await nonces.claim(verified.nonce, verified.validUntil))) throw unauthenticated('the identity signature was already used');
 * ```
 */
export function redisNonceRegistry(redisUrl: string, prefix: string): NonceRegistry {
  const redis: Redis = openRedis(redisUrl, { failFast: true });
  const local = new LRUCache<string, true>({ max: LOCAL_NONCES, ttlAutopurge: false });
  const claimLocally = (nonce: string, ttl: number): boolean => {
    if (local.has(nonce)) return false;
    local.set(nonce, true, { ttl });
    return true;
  };
  return {
    async claim(nonce, validUntil, now = Date.now()) {
      // At least a millisecond: a signature valid until now is still valid for this request.
      const ttl = Math.max(1, validUntil - now + 1);
      try {
        const set = await redis.set(`${prefix}:nonce:${nonce}`, '1', 'PX', ttl, 'NX');
        return set === 'OK' && claimLocally(nonce, ttl);
      } catch {
        return claimLocally(nonce, ttl);
      }
    },
    async close() {
      redis.disconnect();
    },
  };
}
