import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import { type StripeSandbox, type StripeSandboxOptions, startStripeSandbox } from '#local/stripe-sandbox/index';

export const SECRET_KEY = 'sk_test_sandbox_0123456789abcdef';
export const WEBHOOK_SECRET = 'whsec_platform_test_secret';
export const CONNECT_WEBHOOK_SECRET = 'whsec_connect_test_secret';

/**
 * The real SDK pointed at the sandbox (STRIPE_API_BASE split into the SDK's host/port/protocol),
 * for the sandbox's own tests: every call below is the SDK's own, so the sandbox answers what
 * Stripe's SDK expects.
 */
export function stripeClient(secretKey: string, apiBase: string, config: Stripe.StripeConfig = {}): Stripe {
  const base = new URL(apiBase);
  return new Stripe(secretKey, {
    host: base.hostname,
    port: base.port,
    protocol: base.protocol === 'https:' ? 'https' : 'http',
    ...config,
  });
}

export interface Received {
  path: string;
  body: string;
  signature: string;
  status: number;
  event: Stripe.Event;
}

/**
 * A loopback webhook endpoint, like the platform's webhook routes: `/platform` and
 * `/connect`, each verifying `Stripe-Signature` over the raw body with its own secret
 * through the SDK (`stripe.webhooks.constructEvent`); a bad signature answers 400.
 * `answer` decides the status of verified deliveries (default 200), to exercise retries.
 */
export async function startWebhookReceiver(stripe: Stripe) {
  const received: Received[] = [];
  const rejected: Array<{ path: string; error: string }> = [];
  let answer: (event: Stripe.Event, path: string) => number = () => 200;
  const secrets: Record<string, string> = { '/platform': WEBHOOK_SECRET, '/connect': CONNECT_WEBHOOK_SECRET };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = String(req.headers['stripe-signature'] ?? '');
      let event: Stripe.Event;
      try {
        event = stripe.webhooks.constructEvent(body, signature, secrets[path] ?? 'whsec_unknown_path');
      } catch (err) {
        rejected.push({ path, error: (err as Error).message });
        res.writeHead(400).end();
        return;
      }
      const status = answer(event, path);
      received.push({ path, body, signature, status, event });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    platformUrl: `${url}/platform`,
    connectUrl: `${url}/connect`,
    received,
    rejected,
    setAnswer(fn: (event: Stripe.Event, path: string) => number) {
      answer = fn;
    },
    /** Verified events of one type (optionally for one object), in arrival order. */
    events(type: string, objectId?: string) {
      return received
        .filter((r) => r.event.type === type && r.status < 300)
        .filter((r) => !objectId || (r.event.data.object as { id?: string }).id === objectId)
        .map((r) => r.event);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export type WebhookReceiver = Awaited<ReturnType<typeof startWebhookReceiver>>;

/** A sandbox wired to a fresh receiver, with quick retries. */
export async function startSandboxWithReceiver(overrides: Partial<StripeSandboxOptions> = {}) {
  const sandbox: StripeSandbox = await startStripeSandbox({
    secretKey: SECRET_KEY,
    webhookSecret: WEBHOOK_SECRET,
    connectWebhookSecret: CONNECT_WEBHOOK_SECRET,
    retry: { attempts: 4, baseDelayMs: 50, timeoutMs: 2000 },
    ...overrides,
  });
  const stripe = stripeClient(SECRET_KEY, sandbox.url, { maxNetworkRetries: 0 });
  const receiver = await startWebhookReceiver(stripe);
  sandbox.setWebhookUrls({ platform: receiver.platformUrl, connect: receiver.connectUrl });
  return {
    sandbox,
    stripe,
    receiver,
    /** Calls a control route; JSON or form body. */
    async control(path: string, body?: Record<string, unknown>) {
      const res = await fetch(`${sandbox.url}${path}`, {
        method: 'POST',
        headers: body ? { 'content-type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined,
      });
      return { status: res.status, body: (await res.json()) as any };
    },
    async stop() {
      await sandbox.stop();
      await receiver.close();
    },
  };
}

/** Creates an express account and completes its onboarding through the control route. */
export async function onboardedAccount(stripe: Stripe, sandboxUrl: string): Promise<Stripe.Account> {
  const account = await stripe.accounts.create({ type: 'express', country: 'US', email: 'agency@example.test' });
  const res = await fetch(`${sandboxUrl}/sandbox/accounts/${account.id}/onboard`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`onboard answered ${res.status}`);
  return (await res.json()) as Stripe.Account;
}

export function sessionParams(over: Partial<Stripe.Checkout.SessionCreateParams> = {}): Stripe.Checkout.SessionCreateParams {
  return {
    mode: 'payment',
    line_items: [{ price_data: { currency: 'usd', unit_amount: 250, product_data: { name: '100 credits' } }, quantity: 4 }],
    success_url: 'http://127.0.0.1:9/return?session={CHECKOUT_SESSION_ID}',
    cancel_url: 'http://127.0.0.1:9/cancel',
    client_reference_id: 'pur_test_1',
    metadata: { purchaseId: 'pur_test_1' },
    ...over,
  };
}
