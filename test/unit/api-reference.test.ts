/**
 * The API reference at /docs: the page and its files are served under the console's security
 * headers, and the page's outline of the OpenAPI document holds every operation the document
 * declares, each with every response status it declares.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '#console/security-headers';
import { openApiDocument } from '#http/openapi';
import { serveApiReference } from '#local/api-reference';

const pageDir = join(import.meta.dirname, '../../packages/local/api-reference');

interface Operation {
  method: string;
  path: string;
  responses: { status: string }[];
}

describe('API reference page', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (!serveApiReference(req, res)) res.writeHead(418).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('serves the page, its script and its styles under the console CSP', async () => {
    for (const [path, type, file] of [
      ['/docs', 'text/html', 'index.html'],
      ['/docs/reference.js', 'text/javascript', 'reference.js'],
      ['/docs/reference.css', 'text/css', 'reference.css'],
    ] as const) {
      const res = await fetch(`${base}${path}`);
      expect([path, res.status, res.headers.get('content-type')?.split(';')[0]]).toEqual([path, 200, type]);
      expect(res.headers.get('content-security-policy')).toBe(contentSecurityPolicy);
      expect(await res.text()).toBe(readFileSync(join(pageDir, file), 'utf8'));
    }
    const html = readFileSync(join(pageDir, 'index.html'), 'utf8');
    expect(html).toContain('<script type="module" src="/docs/reference.js"></script>');
  });

  it('leaves every other path to the console and the API', async () => {
    expect((await fetch(`${base}/docs/nothing.js`)).status).toBe(404);
    expect((await fetch(`${base}/v1/openapi.json`)).status).toBe(418);
    expect((await fetch(`${base}/docsy`)).status).toBe(418);
  });

  it('outlines every operation of the OpenAPI document with its responses', async () => {
    const script = join(pageDir, 'reference.js');
    const { outline } = (await import(script)) as { outline: (doc: unknown) => { operations: Operation[] }[] };
    const doc = openApiDocument() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const declared = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'put', 'post', 'patch', 'delete'].includes(method))
        .map(([method, op]) => `${method} ${path} ${Object.keys(op.responses).join(',')}`),
    );
    const shown = outline(doc).flatMap((tag) =>
      tag.operations.map((op) => `${op.method} ${op.path} ${op.responses.map((r) => r.status).join(',')}`),
    );
    expect(declared.length).toBeGreaterThan(40);
    expect(shown.sort()).toEqual(declared.sort());
  });
});
