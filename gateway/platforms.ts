// The platforms a token may name: the venues subgraph owns them (its platform table), so the gateway asks it and keeps
// the answer for a short while.
import type { Logger } from '../lib/logger';
import { signIdentity, type Identity } from '../lib/identity';
import { subgraphRequest } from './subgraph-fetch';

export interface PlatformDirectory {
  /** Whether a platform code names one of the hub's platforms; see knownPlatforms for when the list is unknown. */
  isKnown(code: string): Promise<boolean>;
  /** Fetches the list now (at start, so the first requests do not wait for it); resolves whether a list is known. */
  load(timeoutMs?: number): Promise<boolean>;
}

/** How long a fetched list answers before the next request fetches it again. */
export const PLATFORM_LIST_TTL_MS = 60_000;

// Reference data that every authenticated role may list (`Query.platforms`); the gateway asks as itself.
const DIRECTORY_IDENTITY: Identity = {
  sub: 'gateway:platform-directory',
  role: 'PROVINCIAL_ADMIN',
  platform: '000000',
};
const QUERY = JSON.stringify({ query: '{ platforms { id } }' });

/**
 * The platform codes of the venues subgraph, fetched at start (or on first use) and again in the background once
 * PLATFORM_LIST_TTL_MS old, the previous list answering meanwhile (one fetch at a time; a token naming an unknown code
 * never triggers one, so made-up codes cannot make the gateway hammer the subgraph). When a refresh fails the previous
 * list keeps answering. Until a list was ever fetched (the venues subgraph
 * has been unreachable since the gateway started) every code is let through, logged: refusing every token would make
 * a venues outage take the experts and projects subgraphs down with it, and the subgraphs' own scoping still applies
 * (a made-up code matches no rows).
 *
 * ```ts
 * const platforms = knownPlatforms(secret, venuesUrl, logger);
 * if (!(await platforms.isKnown(identity.platform))) throw unauthenticated('…');
 * ```
 */
export function knownPlatforms(
  internalSecret: string,
  venuesUrl: string,
  logger: Logger,
  now: () => number = Date.now,
): PlatformDirectory {
  let codes: Set<string> | null = null;
  let fetchedAt = 0;
  let pending: Promise<void> | null = null;
  const refresh = (): Promise<void> => {
    pending ??= (async () => {
      try {
        const response = await subgraphRequest(venuesUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...signIdentity(internalSecret, DIRECTORY_IDENTITY, QUERY) },
          body: QUERY,
        });
        const body = (await response.json()) as { data?: { platforms?: { id: string }[] } };
        const platforms = body.data?.platforms;
        if (!response.ok || !Array.isArray(platforms))
          throw new Error(`the venues subgraph answered HTTP ${response.status} without a platform list`);
        codes = new Set(platforms.map((platform) => platform.id));
        fetchedAt = now();
      } catch (error) {
        logger.warn(
          { err: error },
          codes
            ? 'the platform list could not be refreshed; the previous one answers'
            : 'the platform list is not known yet; token platforms are not checked',
        );
      } finally {
        pending = null;
      }
    })();
    return pending;
  };
  return {
    async isKnown(code) {
      if (!codes) await refresh();
      else if (now() - fetchedAt > PLATFORM_LIST_TTL_MS) void refresh();
      const known: Set<string> | null = codes;
      return known === null || known.has(code);
    },
    async load(timeoutMs = 2000) {
      // A venues subgraph that does not answer must not hold the gateway's start; the fetch goes on in the background.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([refresh(), new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      return codes !== null;
    },
  };
}
