import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach } from 'vitest';

/**
 * An agency's payment server stand-in, on 127.0.0.1 only: records every request it gets
 * (headers, exact body) and answers as `respond` says (a status, one to come, or `hang` to never answer).
 * `verify` checks a hit's signature with the standardwebhooks library, as a real receiver would.
 */
export interface Hit {
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A status now, a status later (the request held open until the promise settles), or never. */
export type Reply = number | Promise<number> | 'hang';

export async function startReceiver(respond: (hit: Hit, index: number) => Reply = () => 200) {
  const hits: Hit[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', () => {
      const hit = { headers: req.headers, body, at: Date.now() };
      hits.push(hit);
      res.on('error', () => {});
      const reply = respond(hit, hits.length - 1);
      if (reply === 'hang') return;
      void Promise.resolve(reply).then((status) => {
        if (res.destroyed) return; // the sender gave up first
        res.writeHead(status, status >= 300 && status < 400 ? { location: 'http://127.0.0.1:1/elsewhere' } : {});
        res.end('ok');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/recharge`,
    hits,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The payload as the standardwebhooks library verifies it with `secret`; throws when it does not. */
export function verify(hit: Hit, secret: string): Record<string, any> {
  return new Webhook(secret).verify(hit.body, {
    'webhook-id': String(hit.headers['webhook-id']),
    'webhook-timestamp': String(hit.headers['webhook-timestamp']),
    'webhook-signature': String(hit.headers['webhook-signature']),
  }) as Record<string, any>;
}

/**
 * A test file's receivers: each test starts its own, answering `replies.status` at the time of
 * each hit (200 at the start of a test; a test sets it to make the receiver fail), and every
 * receiver closes after the test. Call at the top of the file.
 */
export function receiverPerTest(): { start(): ReturnType<typeof startReceiver>; replies: { status: Reply } } {
  const replies: { status: Reply } = { status: 200 };
  let open: Array<Awaited<ReturnType<typeof startReceiver>>> = [];
  afterEach(async () => {
    await Promise.all(open.map((r) => r.close()));
    open = [];
  });
  return {
    replies,
    async start() {
      replies.status = 200;
      const receiver = await startReceiver(() => replies.status);
      open.push(receiver);
      return receiver;
    },
  };
}
