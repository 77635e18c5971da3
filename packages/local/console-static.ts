import { createReadStream, existsSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { consoleHeaders } from '#console/security-headers';

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The console's files at the API's origin, as CloudFront serves them deployed: `/v1/*` is the
 * API (never here), a file of the build answers itself, any other GET is a client-side route
 * and gets index.html (SPA fallback). Same security headers as CloudFront's policy.
 * Returns false when the request is not the console's (or no console was built).
 */
export function serveConsole(dist: string, req: IncomingMessage, res: ServerResponse): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (url.pathname.startsWith('/v1/') || url.pathname === '/v1') return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return false;
  const requested = normalize(join(dist, decodeURIComponent(url.pathname)));
  const isFile = requested.startsWith(dist) && existsSync(requested) && statSync(requested).isFile();
  // A missing asset is a 404, not index.html (a stale tab asking for an old chunk must fail visibly).
  if (!isFile && url.pathname.startsWith('/assets/')) {
    res.writeHead(404, { 'content-type': 'text/plain', ...consoleHeaders }).end('not found');
    return true;
  }
  const file = isFile ? requested : index;
  const hashed = file.includes(`${join(dist, 'assets')}`);
  res.writeHead(200, {
    'content-type': types[extname(file)] ?? 'application/octet-stream',
    // Hashed assets never change; index.html must always be fresh to point at the current ones.
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...consoleHeaders,
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
  return true;
}
