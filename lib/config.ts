// The process configuration: read once from the environment, validated, with defaults a newcomer can run.
import { z } from 'zod';
import { parseAllowedNetworks } from './endpoint-address';

export const DEVELOPMENT_JWT_SECRET = 'development-only-jwt-secret-change-me-in-production';
export const DEVELOPMENT_INTERNAL_SECRET = 'development-only-internal-secret-change-me-in-production';
export const DEVELOPMENT_WEBHOOK_SECRET = 'development-only-webhook-secret-change-me-in-production';

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();
const duration = z
  .string()
  .regex(/^\d+(ms|s|m|h)$/, 'use a number followed by ms, s, m or h, e.g. 30m')
  .transform((value) => {
    const match = /^(\d+)(ms|s|m|h)$/.exec(value)!;
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
    return Number(match[1]) * factor;
  });
const url = z.string().url();
const cron = z
  .string()
  .regex(/^(off|\S+( \S+){4,5})$/, 'use a cron pattern of 5 or 6 fields, e.g. "0 * * * *", or off');
export const JWT_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'ES256',
  'ES384',
] as const;
const MIN_SECRET_LENGTH = 32;
// 32 characters of one or two symbols (32 spaces, "abab…") are not a secret; 32 random hex digits hold about 14 different ones.
const MIN_SECRET_DISTINCT_CHARACTERS = 10;

/** Why a production secret is too weak, or undefined when it passes: at least 32 characters, at least 10 different ones. */
export function secretWeakness(value: string): string | undefined {
  if ([DEVELOPMENT_JWT_SECRET, DEVELOPMENT_INTERNAL_SECRET, DEVELOPMENT_WEBHOOK_SECRET].includes(value))
    return 'is the development default';
  if (value.length < MIN_SECRET_LENGTH) return `has ${value.length} characters, fewer than ${MIN_SECRET_LENGTH}`;
  const distinct = new Set(value).size;
  if (distinct < MIN_SECRET_DISTINCT_CHARACTERS)
    return `uses only ${distinct} different characters, fewer than ${MIN_SECRET_DISTINCT_CHARACTERS}`;
  return undefined;
}

const schema = z.object({
  HUB_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: url.optional(),
  VENUES_DATABASE_URL: url.optional(),
  EXPERTS_DATABASE_URL: url.optional(),
  PROJECTS_DATABASE_URL: url.optional(),
  PG_POOL_SIZE: positiveInt.default(10),
  REDIS_URL: url.default('redis://127.0.0.1:6379'),
  HUB_QUEUE_PREFIX: z.string().min(1).default('{hub}'),
  HUB_JWT_SECRET: z.string().min(1).default(DEVELOPMENT_JWT_SECRET),
  HUB_JWT_ISSUER: z.string().min(1).default('remote-evaluation-hub'),
  HUB_JWT_AUDIENCE: z.string().min(1).default('remote-evaluation-hub'),
  // Token algorithms the gateway accepts, one family only (HMAC or public key) so a token cannot switch between them.
  HUB_JWT_ALGORITHMS: z
    .string()
    .default('HS256')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(JWT_ALGORITHMS)).min(1, 'name at least one algorithm'))
    .refine(
      (algorithms) => new Set(algorithms.map((algorithm) => algorithm.startsWith('HS'))).size === 1,
      'use HMAC (HS*) or public-key (RS*/PS*/ES*) algorithms, not both',
    ),
  // Public-key verification (production): a PEM SubjectPublicKeyInfo file, or a JWKS file whose keys carry a kid.
  HUB_JWT_PUBLIC_KEY_FILE: z.string().min(1).optional(),
  HUB_JWT_JWKS_FILE: z.string().min(1).optional(),
  HUB_JWT_CLOCK_SKEW: duration.refine((ms) => ms <= 300_000, 'at most 5m').default(30_000),
  // The longest a token may live: exp − iat, or exp − now for a token without iat.
  HUB_JWT_MAX_LIFETIME: duration.refine((ms) => ms >= 60_000, 'at least 1m').default(24 * 3_600_000),
  // Abuse limits at the gateway (gateway/limits.ts, gateway/rate-limit.ts); a refusal names the variable it hit.
  HUB_MAX_BODY_BYTES: positiveInt.default(1_000_000),
  HUB_MAX_QUERY_DEPTH: positiveInt.default(12),
  // Cost: one per field, a paginated field's subtree times its `first` (default 20), any other object list times HUB_COST_LIST_WEIGHT.
  HUB_MAX_QUERY_COST: positiveInt.default(100_000),
  HUB_COST_LIST_WEIGHT: positiveInt.default(10),
  HUB_MAX_ALIASES: positiveInt.default(30),
  // Operations in one batched HTTP request (a JSON array); 1 turns batching off.
  HUB_MAX_BATCH: positiveInt.default(5),
  // Requests per HUB_RATE_LIMIT_WINDOW per identity (token subject), counted in Redis across gateway replicas; 0 turns it off.
  HUB_RATE_LIMIT: z.coerce.number().int().min(0).default(1200),
  HUB_RATE_LIMIT_WINDOW: duration.refine((ms) => ms >= 1000, 'at least 1s').default(60_000),
  // Browser origins allowed to call the gateway (comma-separated, e.g. https://console.example.gov.cn); empty: none.
  HUB_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^https?:\/\/[^/\s]+$/, 'list origins as scheme://host[:port], without a path'))),
  // The gateway's response cache (gateway/response-cache.ts), in MiB of this process's memory; 0 turns it off.
  HUB_RESPONSE_CACHE_MB: z.coerce.number().int().min(0).default(64),
  // Rooms, venues and platforms the gateway keeps per entity (gateway/reference-cache.ts), at most; 0 turns it off.
  HUB_REFERENCE_CACHE_ENTRIES: z.coerce.number().int().min(0).default(20_000),
  HUB_INTERNAL_SECRET: z.string().min(1).default(DEVELOPMENT_INTERNAL_SECRET),
  // How old a gateway → subgraph signature may be, and how far ahead of a subgraph's clock; each nonce is accepted once.
  HUB_SIGNATURE_MAX_AGE: duration.refine((ms) => ms >= 1000 && ms <= 300_000, 'between 1s and 5m').default(15_000),
  HUB_SIGNATURE_CLOCK_SKEW: duration.refine((ms) => ms <= 60_000, 'at most 1m').default(2_000),
  GATEWAY_HOST: z.string().min(1).default('0.0.0.0'),
  // The gateway's /metrics (no token) listens apart from its public port, on loopback by default; METRICS_PORT=0: off.
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: port.default(4009),
  GATEWAY_PORT: port.default(4000),
  /** Gateway processes on one port (node:cluster); 1 runs it in a single process. */
  GATEWAY_WORKERS: positiveInt.default(1),
  SUBGRAPH_HOST: z.string().min(1).default('127.0.0.1'),
  VENUES_PORT: port.default(4001),
  EXPERTS_PORT: port.default(4002),
  PROJECTS_PORT: port.default(4003),
  VENUES_URL: url.optional(),
  EXPERTS_URL: url.optional(),
  PROJECTS_URL: url.optional(),
  HOLD_TTL: duration.default(30 * 60_000),
  // The backstop that settles arrangements whose delayed expiry job was lost.
  HOLD_SWEEP_INTERVAL: duration.default(60_000),
  // How long a worker owns an active job before another may take it over (after a crash): BullMQ's lockDuration.
  JOB_LOCK_DURATION: duration.default(30_000),
  // Webhooks to partner platforms: signed with HMAC-SHA256 under this secret, retried with exponential backoff.
  WEBHOOK_SECRET: z.string().min(1).default(DEVELOPMENT_WEBHOOK_SECRET),
  WEBHOOK_MAX_ATTEMPTS: positiveInt.default(6),
  WEBHOOK_RETRY_DELAY: duration.default(2_000),
  WEBHOOK_TIMEOUT: duration.default(5_000),
  // Private networks partner endpoints may be on (comma-separated CIDRs inside 10/8, 172.16/12, 192.168/16, 100.64/10,
  // fc00::/7), for closed government networks; empty: none. Loopback, link-local and metadata addresses stay refused.
  WEBHOOK_ALLOWED_NETWORKS: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const parsed = parseAllowedNetworks(value);
      if ('networks' in parsed) return parsed.networks;
      ctx.addIssue({ code: 'custom', message: parsed.problem });
      return z.NEVER;
    }),
  INVITE_TTL: duration.default(15 * 60_000),
  DRAW_LIMIT_30D: positiveInt.default(3),
  HOST_REGION_SHARE: z
    .string()
    .regex(/^\d+\/\d+$/, 'use a fraction such as 1/3')
    .default('1/3'),
  OUTBOX_POLL_INTERVAL: duration.default(500),
  // Where jobs that read the supergraph (the reconciliation) reach the gateway; default: this host's GATEWAY_PORT.
  GATEWAY_URL: url.optional(),
  // Reconciliation schedules (cron, in RECONCILE_TIMEZONE): the next 14 days hourly, the past day nightly; "off" disables one.
  RECONCILE_UPCOMING_CRON: cron.default('0 * * * *'),
  RECONCILE_NIGHTLY_CRON: cron.default('30 2 * * *'),
  RECONCILE_TIMEZONE: z.string().min(1).default('Asia/Shanghai'),
  // The jobs process's /healthz, /readyz and /metrics; 0 turns that server off.
  JOBS_HOST: z.string().min(1).default('127.0.0.1'),
  JOBS_METRICS_PORT: port.default(4010),
  // OCDS export (subgraphs/projects/ocds.ts, docs/archive-format.md). The public base URL of the gateway: package `uri`s
  // and the extension's URL are built from it, never from a request's Host header; default http://localhost:GATEWAY_PORT.
  HUB_PUBLIC_URL: url.refine((value) => !/[?#]/.test(value), 'give a base URL without a query or fragment').optional(),
  // The ocid prefix: ocds- and six characters registered with the Open Contracting Partnership; register a real one.
  OCDS_PREFIX: z
    .string()
    .regex(/^ocds-[a-z0-9]{6}$/, 'use a registered prefix: ocds- followed by six lowercase letters or digits')
    .default('ocds-rehub1'),
  OCDS_LICENSE: url.optional(),
  OCDS_PUBLICATION_POLICY: url.optional(),
  // publisher.scheme: the list publisher.uid (the host trading center's GB/T 2260 region code) comes from.
  OCDS_PUBLISHER_SCHEME: z.string().min(1).default('CN-GBT2260'),
  // OpenTelemetry tracing (lib/otel.ts): the OTLP/HTTP collector's base URL (spans go to <url>/v1/traces); unset: off.
  OTEL_EXPORTER_OTLP_ENDPOINT: url.optional(),
  // Milliseconds between span exports (the OpenTelemetry variable of that name).
  OTEL_BSP_SCHEDULE_DELAY: positiveInt.default(5000),
});

export type HubConfig = z.infer<typeof schema>;

/**
 * Validates an environment and returns the configuration; a bad value stops with a message naming the variable.
 *
 * ```ts
 * const config = loadConfig({ ...process.env, GATEWAY_PORT: '0' });
 * ```
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const config = result.data;
  const publicKeyTokens = !config.HUB_JWT_ALGORITHMS[0].startsWith('HS');
  if (publicKeyTokens && !config.HUB_JWT_PUBLIC_KEY_FILE && !config.HUB_JWT_JWKS_FILE) {
    throw new ConfigError(
      `HUB_JWT_ALGORITHMS: ${config.HUB_JWT_ALGORITHMS.join(',')} needs HUB_JWT_PUBLIC_KEY_FILE (a PEM public key) or HUB_JWT_JWKS_FILE`,
    );
  }
  if (config.HUB_JWT_PUBLIC_KEY_FILE && !config.HUB_JWT_JWKS_FILE && config.HUB_JWT_ALGORITHMS.length !== 1) {
    throw new ConfigError(
      'HUB_JWT_ALGORITHMS: a single PEM key (HUB_JWT_PUBLIC_KEY_FILE) verifies exactly one algorithm; name one',
    );
  }
  if (config.HUB_ENV === 'production') {
    // The JWT secret matters only when tokens are HMAC-signed; the internal secret always signs gateway → subgraph calls.
    // The webhook secret lets partner platforms trust what the hub sends them; a public default would let anyone forge it.
    const secrets = publicKeyTokens
      ? (['HUB_INTERNAL_SECRET', 'WEBHOOK_SECRET'] as const)
      : (['HUB_JWT_SECRET', 'HUB_INTERNAL_SECRET', 'WEBHOOK_SECRET'] as const);
    for (const name of secrets) {
      const weakness = secretWeakness(config[name]);
      if (weakness) {
        throw new ConfigError(
          `${name}: the secret ${weakness}; production needs at least ${MIN_SECRET_LENGTH} characters with at least ${MIN_SECRET_DISTINCT_CHARACTERS} different ones, not the development default (e.g. openssl rand -hex 32)`,
        );
      }
    }
    if (config.HUB_JWT_SECRET === config.HUB_INTERNAL_SECRET) {
      throw new ConfigError(
        'HUB_INTERNAL_SECRET: must differ from HUB_JWT_SECRET, or a token signer could forge subgraph calls',
      );
    }
  }
  return config;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export type Domain = 'venues' | 'experts' | 'projects';

/** The Postgres URL of one domain: its own variable, else DATABASE_URL. */
export function databaseUrl(config: HubConfig, domain: Domain): string {
  const own = {
    venues: config.VENUES_DATABASE_URL,
    experts: config.EXPERTS_DATABASE_URL,
    projects: config.PROJECTS_DATABASE_URL,
  }[domain];
  const value = own ?? config.DATABASE_URL;
  if (!value) {
    throw new ConfigError(
      `DATABASE_URL: set it (or ${domain.toUpperCase()}_DATABASE_URL) to a Postgres URL such as postgres://postgres@127.0.0.1:5432/hub`,
    );
  }
  return value;
}

export function subgraphUrl(config: HubConfig, domain: Domain): string {
  const own = { venues: config.VENUES_URL, experts: config.EXPERTS_URL, projects: config.PROJECTS_URL }[domain];
  const portOf = { venues: config.VENUES_PORT, experts: config.EXPERTS_PORT, projects: config.PROJECTS_PORT }[domain];
  return own ?? `http://127.0.0.1:${portOf}/graphql`;
}

/** The gateway's GraphQL endpoint, for processes that are its clients. */
export function gatewayUrl(config: HubConfig): string {
  return config.GATEWAY_URL ?? `http://127.0.0.1:${config.GATEWAY_PORT}/graphql`;
}

/** The share of expert seats host-region experts may fill, as a fraction. */
export function hostRegionShare(config: HubConfig): { numerator: number; denominator: number } {
  const [numerator, denominator] = config.HOST_REGION_SHARE.split('/').map(Number);
  return { numerator, denominator };
}
