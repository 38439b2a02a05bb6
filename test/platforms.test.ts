// The gateway's platform directory: the venues subgraph's list, kept for a minute, the previous list kept when a refresh
// fails, and every code let through only while no list was ever fetched. The venues subgraph is stood in for by a small
// HTTP server that checks the gateway's signature as a subgraph does.
import type { Server } from 'node:http';
import { knownPlatforms, PLATFORM_LIST_TTL_MS } from '../gateway/platforms';
import { closeServer, createServer, listen, readBody } from '../lib/http';
import { IDENTITY_HEADER, SIGNATURE_HEADER, verifySignedIdentity } from '../lib/identity';
import { createLogger } from '../lib/logger';
import { eventually } from './support/hub';

const SECRET = 'platform-directory-test-secret-0123456789';
const logger = createLogger('test', 'silent');

let server: Server;
let url: string;
let platforms: string[] = ['410000', '411700'];
let answered = 0;
let down = false;

beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request, 100_000).then((body) => {
      const verified = verifySignedIdentity(
        SECRET,
        {
          identity: request.headers[IDENTITY_HEADER] as string,
          signature: request.headers[SIGNATURE_HEADER] as string,
        },
        body,
        { maxAgeMs: 15_000, skewMs: 2_000 },
      );
      if (down || !verified.ok) {
        response.writeHead(down ? 503 : 401, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ errors: [{ message: down ? 'down' : verified.ok ? '' : verified.reason }] }));
        return;
      }
      answered++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ data: { platforms: platforms.map((id) => ({ id })) } }));
    });
  });
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}/graphql`;
});
afterAll(async () => {
  await closeServer(server);
});

it('knows the listed platforms, refreshes once stale, and keeps the previous list when a refresh fails', async () => {
  let clock = 1_000_000;
  const directory = knownPlatforms(SECRET, url, logger, () => clock);
  expect(await directory.load()).toBe(true);
  expect(await directory.isKnown('411700')).toBe(true);
  expect(await directory.isKnown('999999')).toBe(false);
  // An unknown code does not make the gateway ask again.
  expect(answered).toBe(1);

  platforms = ['410000', '411700', '411799'];
  clock += PLATFORM_LIST_TTL_MS + 1;
  // Stale: the previous list answers while the new one is fetched in the background.
  expect(await directory.isKnown('411799')).toBe(false);
  await eventually(async () => ((await directory.isKnown('411799')) ? true : undefined), 5000, 'the refreshed list');

  down = true;
  clock += PLATFORM_LIST_TTL_MS + 1;
  const before = answered;
  expect(await directory.isKnown('411799')).toBe(true);
  expect(await directory.isKnown('999999')).toBe(false);
  expect(answered).toBe(before);
  down = false;
});

it('lets every code through, logged, while no list was ever fetched', async () => {
  down = true;
  const directory = knownPlatforms(SECRET, url, logger);
  expect(await directory.load()).toBe(false);
  expect(await directory.isKnown('999999')).toBe(true);
  down = false;
  // Once the venues subgraph answers, the next check fetches the list and refuses what it does not hold.
  expect(await directory.isKnown('999999')).toBe(false);
});
