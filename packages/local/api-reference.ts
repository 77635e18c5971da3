import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { consoleHeaders } from '#console/security-headers';

const dir = join(import.meta.dirname, 'api-reference');
const files: Record<string, { file: string; type: string }> = {
  '/docs': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/docs/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/docs/reference.js': { file: 'reference.js', type: 'text/javascript; charset=utf-8' },
  '/docs/reference.css': { file: 'reference.css', type: 'text/css; charset=utf-8' },
};

/**
 * The API reference at /docs: a static page that renders the OpenAPI document the API serves
 * (/v1/openapi.json) in the browser, under the console's security headers. Local only (the
 * deployed API serves the document; a rendered page there is not built). Returns false for
 * any other request.
 */
export function serveApiReference(req: IncomingMessage, res: ServerResponse): boolean {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const known = files[pathname];
  if (!known) {
    if (!pathname.startsWith('/docs/')) return false;
    res.writeHead(404, { 'content-type': 'text/plain', ...consoleHeaders }).end('not found');
    return true;
  }
  const body = readFileSync(join(dir, known.file));
  res.writeHead(200, { 'content-type': known.type, 'cache-control': 'no-cache', ...consoleHeaders });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
