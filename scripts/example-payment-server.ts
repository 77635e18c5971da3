/**
 * `npm run example:payment-server`: a small agency payment server for auto-recharge (the
 * product's "custom payment provider"). It verifies each webhook with the standardwebhooks
 * library, "charges" the client (a log line: a real one would call its own billing here), and
 * grants the credits with the request id through an agency API key. The grant's
 * Idempotency-Key is derived from the request id, so a retried webhook (same webhook-id) can
 * never grant twice; a request already closed (409) is answered 200, anything else that fails
 * 500 so that the platform retries.
 *
 *   WEBHOOK_SECRET=whsec_… API_KEY=ak_… npm run example:payment-server
 *   (PAYMENT_SERVER_PORT, default 4242; API_URL, default http://127.0.0.1:3000)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { Webhook } from 'standardwebhooks';

export interface PaymentServerOptions {
  port?: number;
  /** Read per request, so a caller can set it once the endpoint is saved (or rotated). */
  secret: () => string;
  apiKey: string;
  apiUrl: string;
  log?: (line: string) => void;
  /** Called when a webhook arrives, before the charge (the bench times this). */
  onWebhook?: (payload: Record<string, any>) => void;
}

export async function startPaymentServer(opts: PaymentServerOptions): Promise<{ url: string; server: Server }> {
  const log = opts.log ?? console.log;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk;
    });
    req.on('end', async () => {
      let payload: Record<string, any>;
      try {
        payload = new Webhook(opts.secret()).verify(body, {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        }) as Record<string, any>;
      } catch {
        log('refused a webhook whose signature did not verify');
        res.writeHead(401).end();
        return;
      }
      opts.onWebhook?.(payload);
      if (payload.type !== 'credits.recharge_requested') {
        log(`received ${payload.type} (${req.headers['webhook-id']})`);
        res.writeHead(200).end();
        return;
      }
      const { requestId, subAccount, creditsRequested, balance } = payload.data;
      log(
        `charging ${subAccount.name} <${subAccount.email}> for ${creditsRequested} credits (balance ${balance}, request ${requestId})`,
      );
      const grant = await fetch(`${opts.apiUrl}/v1/sub-accounts/${subAccount.id}/credits/grants`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${opts.apiKey}`,
          'content-type': 'application/json',
          'idempotency-key': `recharge-${requestId}`,
        },
        body: JSON.stringify({ credits: creditsRequested, requestId, reference: `auto-recharge ${requestId}` }),
      }).catch((err: Error) => ({ status: 0, json: async () => ({ detail: err.message }) }));
      const answer = (await grant.json().catch(() => ({}))) as Record<string, any>;
      if (grant.status === 201) log(`granted ${creditsRequested} credits: wallet ${answer.balance}`);
      else log(`grant answered ${grant.status} ${answer.code ?? ''} ${answer.detail ?? ''}`);
      res.writeHead(grant.status === 201 || answer.code === 'recharge_request_closed' ? 200 : 500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/recharge`, server };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const secret = process.env.WEBHOOK_SECRET;
  const apiKey = process.env.API_KEY;
  if (!secret?.startsWith('whsec_') || !apiKey) {
    console.error('usage: WEBHOOK_SECRET=whsec_… API_KEY=ak_… npm run example:payment-server');
    process.exit(2);
  }
  const { url } = await startPaymentServer({
    port: Number(process.env.PAYMENT_SERVER_PORT ?? 4242),
    secret: () => secret,
    apiKey,
    apiUrl: process.env.API_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`,
  });
  console.log(`payment server listening: save ${url} as the auto-recharge webhook URL`);
}
