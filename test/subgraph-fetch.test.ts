// The gateway's subgraph requests: answers passed through as fetch would (status, headers, body), connections kept
// alive and reused, a refused connection rejected.
import type { Server } from 'node:http';
import { subgraphRequest } from '../gateway/subgraph-fetch';
import { closeServer, createServer, listen, readBody } from '../lib/http';

let server: Server;
let url: string;
let connections = 0;
beforeAll(async () => {
  server = createServer((request, response) => {
    void readBody(request, 100_000).then((body) => {
      const status = request.url === '/teapot' ? 418 : 200;
      response.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'max-age=5, public',
        'x-seen-signature': String(request.headers['x-hub-signature'] ?? ''),
      });
      response.end(JSON.stringify({ data: { echo: body, length: Number(request.headers['content-length']) } }));
    });
  });
  server.on('connection', () => connections++);
  url = `http://127.0.0.1:${await listen(server, 0, '127.0.0.1')}`;
});
afterAll(async () => {
  await closeServer(server);
});

it('passes the answer through: status, headers, and a JSON body', async () => {
  const body = JSON.stringify({ query: '{ platform(id: "411700") { name } }', variables: { 名称: '驻马店' } });
  const response = await subgraphRequest(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-hub-signature': 't=1,v1=ab' },
    body,
  });
  expect(response.status).toBe(200);
  expect(response.ok).toBe(true);
  expect(response.headers.get('Cache-Control')).toBe('max-age=5, public');
  expect(response.headers.get('x-seen-signature')).toBe('t=1,v1=ab');
  expect(await response.json()).toEqual({ data: { echo: body, length: Buffer.byteLength(body) } });
  const refused = await subgraphRequest(`${url}/teapot`, { headers: {}, body: '{}' });
  expect(refused.status).toBe(418);
  expect(refused.ok).toBe(false);
});

it('reuses one kept-alive connection for requests one after another', async () => {
  const before = connections;
  for (let index = 0; index < 20; index++) {
    const response = await subgraphRequest(`${url}/graphql`, {
      headers: { 'content-type': 'application/json' },
      body: `{"n":${index}}`,
    });
    expect(((await response.json()) as { data: { echo: string } }).data.echo).toBe(`{"n":${index}}`);
  }
  expect(connections - before).toBeLessThanOrEqual(1);
});

it('rejects when nothing listens, as fetch does', async () => {
  const spare = createServer(() => undefined);
  const port = await listen(spare, 0, '127.0.0.1');
  await closeServer(spare);
  await expect(subgraphRequest(`http://127.0.0.1:${port}/graphql`, { headers: {}, body: '{}' })).rejects.toThrow(
    /ECONNREFUSED/,
  );
});
