// The schedule board: a static page (gateway/board/) a provincial admin opens at GET /board; it reads /graphql itself.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sendJson, type Route } from '../lib/http';

// Compiled to dist/gateway/, the page's files stay in the source tree (they are not TypeScript).
const BOARD_DIR = __dirname.split(/[\\/]/).includes('dist')
  ? join(__dirname, '..', '..', 'gateway', 'board')
  : join(__dirname, 'board');

const FILES: Record<string, { file: string; type: string }> = {
  '/board': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/board/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/board/board.js': { file: 'board.js', type: 'text/javascript; charset=utf-8' },
  '/board/board.css': { file: 'board.css', type: 'text/css; charset=utf-8' },
};

/** Serves the board's files; everything else under /board is 404. Route key: 'GET /board*'. */
export const boardRoute: Route = async (request, response) => {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  const entry = FILES[path];
  if (!entry) {
    sendJson(response, 404, { error: `no board file ${path}; open /board` });
    return;
  }
  const body = await readFile(join(BOARD_DIR, entry.file));
  response.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    // Nothing from elsewhere: the page talks to this gateway's /graphql only.
    'content-security-policy': "default-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
  });
  response.end(body);
};
