// Who is calling: the roles of DOMAIN.md, and the signed identity the gateway forwards to subgraphs.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

export const ROLES = ['PROVINCIAL_ADMIN', 'PLATFORM_OPERATOR', 'SUPERVISOR', 'AGENCY', 'EXPERT', 'PARTNER_SYSTEM'] as const;
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
    if (value.role === 'SUPERVISOR' && !value.department) ctx.addIssue({ code: 'custom', message: 'a SUPERVISOR needs a department claim' });
    if (value.role === 'AGENCY' && !value.org) ctx.addIssue({ code: 'custom', message: 'an AGENCY needs an org claim' });
    if (value.role === 'EXPERT' && !value.expert) ctx.addIssue({ code: 'custom', message: 'an EXPERT needs an expert claim' });
  });

export type Identity = z.infer<typeof identitySchema>;

export const IDENTITY_HEADER = 'x-hub-identity';
export const SIGNATURE_HEADER = 'x-hub-signature';

function mac(secret: string, timestamp: string, encodedIdentity: string, body: string): string {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', secret).update(`${timestamp}.${encodedIdentity}.${bodyHash}`).digest('hex');
}

/**
 * Signs an identity for one request body: the subgraph checks the identity, the body and the time together.
 *
 * ```ts
 * const headers = signIdentity(secret, identity, JSON.stringify(body));
 * ```
 */
export function signIdentity(secret: string, identity: Identity, body: string, now: number = Date.now()): Record<string, string> {
  const encoded = encodeIdentity(identity);
  return { [IDENTITY_HEADER]: encoded, [SIGNATURE_HEADER]: signatureFor(secret, encoded, body, now) };
}

export function encodeIdentity(identity: Identity): string {
  return Buffer.from(JSON.stringify(identity)).toString('base64url');
}

/** The signature header value for an already encoded identity and the exact body sent. */
export function signatureFor(secret: string, encodedIdentity: string, body: string, now: number = Date.now()): string {
  const timestamp = String(now);
  return `t=${timestamp},v1=${mac(secret, timestamp, encodedIdentity, body)}`;
}

export type VerifiedIdentity = { ok: true; identity: Identity } | { ok: false; reason: string };

/** Checks the signed identity headers of a request: the signature, its age and the identity's shape. */
export function verifySignedIdentity(
  secret: string,
  headers: { identity?: string; signature?: string },
  body: string,
  maxAgeMs: number,
  now: number = Date.now(),
): VerifiedIdentity {
  if (!headers.identity || !headers.signature) return { ok: false, reason: 'the request carries no signed identity; call the hub through its gateway' };
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(headers.signature);
  if (!match) return { ok: false, reason: 'the identity signature is malformed' };
  const [, timestamp, given] = match;
  if (Math.abs(now - Number(timestamp)) > maxAgeMs) return { ok: false, reason: 'the identity signature is stale' };
  const expected = Buffer.from(mac(secret, timestamp, headers.identity, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) return { ok: false, reason: 'the identity signature does not match' };
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(headers.identity, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'the identity header is not valid JSON' };
  }
  const parsed = identitySchema.safeParse(decoded);
  if (!parsed.success) return { ok: false, reason: 'the identity header does not describe a known role' };
  return { ok: true, identity: parsed.data };
}
