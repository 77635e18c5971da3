/**
 * Webhook delivery against real receivers started here, on 127.0.0.1 and ::1 only. Every
 * test runs with the system resolver (`dns.lookup`, which node:net calls for host names)
 * replaced by a guard that records the call and fails it: so a delivery that asked DNS
 * instead of using its pinned addresses is seen, and still sends nothing anywhere.
 */
import { execFileSync } from 'node:child_process';
import dns from 'node:dns';
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { postWebhook } from '#domain/webhooks/deliver';
import { generateWebhookSecret, signWebhook } from '#domain/webhooks/signing';
import { type CheckedTarget, type Resolver, resolveAndCheck } from '#domain/webhooks/webhook-url';

interface Hit {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  servername?: string;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const servers: http.Server[] = [];
/** Host names something asked the system resolver for (IP literals, e.g. from `server.listen`, pass through). */
let dnsAsked: string[];

beforeEach(() => {
  dnsAsked = [];
  const systemLookup = dns.lookup;
  vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, ...args: unknown[]) => {
    if (isIP(hostname)) return (systemLookup as (...a: unknown[]) => void)(hostname, ...args);
    dnsAsked.push(hostname);
    const callback = args.at(-1) as (err: Error) => void;
    process.nextTick(() => callback(Object.assign(new Error(`test guard: DNS asked for ${hostname}`), { code: 'ENOTFOUND' })));
  }) as never);
});

afterEach(async () => {
  vi.restoreAllMocks();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A receiver that records each request (body read first) and answers with `handler`. */
async function receiver(handler: Handler, options: { host?: string; tls?: { key: string; cert: string } } = {}) {
  const host = options.host ?? '127.0.0.1';
  const hits: Hit[] = [];
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', () => {
      hits.push({
        method: req.method!,
        path: req.url!,
        headers: req.headers,
        body,
        servername: (req.socket as { servername?: string }).servername,
      });
      res.on('error', () => {}); // the client may hang up first, on purpose
      handler(req, res);
    });
  };
  const server = options.tls ? https.createServer(options.tls, onRequest) : http.createServer(onRequest);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return { port, hits, origin, hitsOn: (path: string) => hits.filter((h) => h.path === path).length };
}

async function localTarget(url: string): Promise<CheckedTarget> {
  const checked = await resolveAndCheck(url, { allowLoopbackHttp: true });
  if (!checked.ok) throw new Error(checked.problem.message);
  return checked.target;
}

/** A name pinned to loopback without a check (`resolveAndCheck` would refuse http to it): only tests do this. */
const pinnedName = (url: string, address = '127.0.0.1') =>
  ({ url: new URL(url), addresses: [{ address, family: 4 }] }) as unknown as CheckedTarget;

const body = JSON.stringify({ type: 'webhook.test', timestamp: '2025-01-01T00:00:00Z', data: {} });
const answer =
  (status: number, text = '', headers: http.OutgoingHttpHeaders = {}): Handler =>
  (_req, res) =>
    res.writeHead(status, headers).end(text);

describe('postWebhook', () => {
  it('the DNS guard sees a request that resolves a name the normal way', async () => {
    const r = await receiver(answer(200));
    const error = await new Promise<Error>((resolve) => http.get(`http://localhost:${r.port}/`).on('error', resolve));
    expect(error.message).toContain('test guard');
    expect(dnsAsked).toEqual(['localhost']);
    expect(r.hits).toHaveLength(0);
  });

  it('POSTs the signed JSON body; any 2xx is success', async () => {
    const secret = generateWebhookSecret();
    let verified: unknown;
    const r = await receiver((req, res) => {
      verified = new Webhook(secret).verify(r.hits.at(-1)!.body, req.headers as Record<string, string>);
      res.writeHead(202).end('queued');
    });
    const headers = signWebhook({ msgId: 'msg_ok', body, secrets: { current: secret } });
    const result = await postWebhook({ target: await localTarget(`${r.origin}/hook?x=1`), headers: { ...headers }, body });
    expect(result).toMatchObject({
      outcome: 'success',
      statusCode: 202,
      responseSnippet: 'queued',
      responseTruncated: false,
      remoteAddress: '127.0.0.1',
    });
    expect(result.error).toBeUndefined();
    expect(verified).toEqual(JSON.parse(body));
    expect(r.hits).toEqual([expect.objectContaining({ method: 'POST', path: '/hook?x=1', body })]);
    expect(r.hits[0]!.headers).toMatchObject({
      'content-type': 'application/json',
      'webhook-id': 'msg_ok',
      'content-length': String(body.length),
    });

    const noContent = await receiver(answer(204));
    expect(await postWebhook({ target: await localTarget(`${noContent.origin}/`), headers: {}, body })).toMatchObject({
      outcome: 'success',
      statusCode: 204,
    });
  });

  it.each([500, 503, 404, 400, 429, 418])('answers %i: failure to retry, with the response for the log', async (status) => {
    const r = await receiver(answer(status, `status ${status}`));
    const result = await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body });
    expect(result).toMatchObject({
      outcome: 'failure',
      failure: 'http_status',
      statusCode: status,
      error: `receiver answered ${status}`,
    });
    expect(result.responseSnippet).toBe(`status ${status}`);
  });

  it('answers 410: gone', async () => {
    const r = await receiver(answer(410, 'no such endpoint'));
    expect(await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body })).toMatchObject({
      outcome: 'gone',
      statusCode: 410,
      responseSnippet: 'no such endpoint',
    });
  });

  it.each([301, 302, 303, 307, 308])('answers %i: failure, the redirect is not followed', async (status) => {
    const r = await receiver((req, res) => {
      if (req.url === '/target') res.writeHead(200).end('followed');
      else res.writeHead(status, { location: `http://127.0.0.1:${r.port}/target` }).end();
    });
    const result = await postWebhook({ target: await localTarget(`${r.origin}/hook`), headers: {}, body });
    expect(result).toMatchObject({ outcome: 'failure', failure: 'redirect', statusCode: status });
    expect(result.error).toContain(`/target; redirects are not followed`);
    expect(r.hitsOn('/hook')).toBe(1);
    expect(r.hitsOn('/target')).toBe(0);
  });

  it('times out a receiver that never answers', async () => {
    const r = await receiver(() => {});
    const result = await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body, timeoutMs: 300 });
    expect(result).toMatchObject({ outcome: 'failure', failure: 'timeout', error: 'no complete response within 300 ms' });
    expect(result.statusCode).toBeUndefined();
    expect(r.hits).toHaveLength(1);
  });

  it('times out a 200 whose body never ends: success needs the whole response', async () => {
    const r = await receiver((_req, res) => res.writeHead(200).write('still writing'));
    const result = await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body, timeoutMs: 300 });
    expect(result).toMatchObject({ outcome: 'failure', failure: 'timeout', statusCode: 200, responseSnippet: 'still writing' });
  });

  it('fails when the receiver closes the connection before answering', async () => {
    const r = await receiver((req) => req.socket.destroy());
    const result = await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body });
    expect(result).toMatchObject({ outcome: 'failure', failure: 'connection_closed' });
    expect(result.statusCode).toBeUndefined();
  });

  it('fails when the receiver closes the connection mid-response, even after a 200', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-length': '100' }).write('partial', () => res.socket?.destroy());
    });
    const result = await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body });
    expect(result).toMatchObject({
      outcome: 'failure',
      failure: 'connection_closed',
      statusCode: 200,
      responseSnippet: 'partial',
    });
  });

  it('fails when nothing listens', async () => {
    const r = await receiver(answer(200));
    const port = r.port;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const result = await postWebhook({ target: await localTarget(`http://127.0.0.1:${port}/`), headers: {}, body });
    expect(result).toMatchObject({ outcome: 'failure', failure: 'connection_failed', error: 'could not connect: ECONNREFUSED' });
  });

  it('reads at most maxResponseBytes of a huge response', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200);
      const chunk = 'x'.repeat(64 * 1024);
      const writeMore = (left: number): void => {
        if (left === 0) return void res.end();
        if (res.write(chunk)) writeMore(left - 1);
        else res.once('drain', () => writeMore(left - 1));
      };
      writeMore(256); // 16 MiB if anyone read it all
    });
    const result = await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body, maxResponseBytes: 1000 });
    expect(result).toMatchObject({ outcome: 'success', statusCode: 200, responseTruncated: true });
    expect(result.responseSnippet).toBe('x'.repeat(1000));

    const exact = await receiver(answer(200, 'y'.repeat(1000)));
    const whole = await postWebhook({ target: await localTarget(`${exact.origin}/`), headers: {}, body, maxResponseBytes: 1000 });
    expect(whole).toMatchObject({ outcome: 'success', responseTruncated: false, responseSnippet: 'y'.repeat(1000) });
  });

  it('reaches a receiver on ::1', async () => {
    const r = await receiver(answer(200), { host: '::1' });
    expect(await postWebhook({ target: await localTarget(`${r.origin}/`), headers: {}, body })).toMatchObject({
      outcome: 'success',
      remoteAddress: '::1',
    });
  });
});

describe('postWebhook connects to the pinned addresses only', () => {
  it('uses the address pinned at check time even though the name now rebinds', async () => {
    const r = await receiver(answer(200));
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: ++calls === 1 ? '127.0.0.1' : '10.0.0.1', family: 4 }];
    const url = `http://localhost:${r.port}/hook`;
    const checked = await resolveAndCheck(url, { allowLoopbackHttp: true, resolver: rebinding });
    expect(checked.ok).toBe(true);
    // Asked again, the name now answers a private address and would be refused...
    expect(await resolveAndCheck(url, { allowLoopbackHttp: true, resolver: rebinding })).toMatchObject({ ok: false });
    // ...but the delivery goes where the check looked, and asks nobody.
    const result = await postWebhook({ target: (checked as { target: CheckedTarget }).target, headers: {}, body });
    expect(result).toMatchObject({ outcome: 'success', remoteAddress: '127.0.0.1' });
    expect(calls).toBe(2);
    expect(dnsAsked).toEqual([]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]!.headers.host).toBe(`localhost:${r.port}`);
  });

  it('sends the name as Host while connecting to the pinned address', async () => {
    const r = await receiver(answer(200));
    const result = await postWebhook({ target: pinnedName(`http://hooks.example.com:${r.port}/hook`), headers: {}, body });
    expect(result).toMatchObject({ outcome: 'success', remoteAddress: '127.0.0.1' });
    expect(r.hits[0]!.headers.host).toBe(`hooks.example.com:${r.port}`);
    expect(dnsAsked).toEqual([]);
  });

  it('tries the next pinned address when one refuses', async () => {
    const r = await receiver(answer(200)); // 127.0.0.1 only, so ::1 on this port refuses
    const target = {
      url: new URL(`http://hooks.example.com:${r.port}/`),
      addresses: [
        { address: '::1', family: 6 },
        { address: '127.0.0.1', family: 4 },
      ],
    } as unknown as CheckedTarget;
    expect(await postWebhook({ target, headers: {}, body })).toMatchObject({ outcome: 'success', remoteAddress: '127.0.0.1' });
    expect(dnsAsked).toEqual([]);
  });
});

const opensslVersion = (() => {
  try {
    return execFileSync('openssl', ['version'], { encoding: 'utf8' });
  } catch {
    return undefined;
  }
})();

describe.skipIf(!opensslVersion)('postWebhook over TLS (needs the openssl CLI for a throwaway certificate)', () => {
  let tls: { key: string; cert: string };
  beforeAll(() => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-tls-'));
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
        ...['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-subj', '/CN=hooks.example.com'],
        ...['-addext', 'subjectAltName=DNS:hooks.example.com'],
      ],
      { stdio: 'ignore' },
    );
    tls = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  });

  it('uses the host name for SNI and the certificate check, the pinned address for the socket', async () => {
    const r = await receiver(answer(200, 'ok'), { tls });
    const result = await postWebhook({
      target: pinnedName(`https://hooks.example.com:${r.port}/hook`),
      headers: {},
      body,
      ca: tls.cert,
    });
    expect(result).toMatchObject({ outcome: 'success', responseSnippet: 'ok', remoteAddress: '127.0.0.1' });
    expect(r.hits[0]).toMatchObject({ servername: 'hooks.example.com', headers: { host: `hooks.example.com:${r.port}` } });
    expect(dnsAsked).toEqual([]);
  });

  it('gives up on a connection whose TLS handshake never completes', async () => {
    const silent = net.createServer(() => {}); // accepts TCP, never speaks TLS
    const sockets: net.Socket[] = [];
    silent.on('connection', (socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const target = pinnedName(`https://hooks.example.com:${port}/`);
      const result = await postWebhook({ target, headers: {}, body, ca: tls.cert, connectTimeoutMs: 200, timeoutMs: 5000 });
      expect(result).toMatchObject({ outcome: 'failure', failure: 'connect_timeout', error: 'not connected within 200 ms' });
      expect(sockets).toHaveLength(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('fails on a certificate for another name or from an untrusted issuer', async () => {
    const r = await receiver(answer(200), { tls });
    const otherName = await postWebhook({
      target: pinnedName(`https://other.example.net:${r.port}/`),
      headers: {},
      body,
      ca: tls.cert,
    });
    expect(otherName).toMatchObject({ outcome: 'failure', failure: 'tls' });
    const untrusted = await postWebhook({ target: pinnedName(`https://hooks.example.com:${r.port}/`), headers: {}, body });
    expect(untrusted).toMatchObject({ outcome: 'failure', failure: 'tls' });
    expect(r.hits).toHaveLength(0);
  });
});
