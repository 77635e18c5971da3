/**
 * The local Stripe sandbox: a stand-in for api.stripe.com, its hosted pages and its
 * webhooks, for `npm start` and the test stack. Driven through the real `stripe` SDK:
 *
 *   const stripe = new Stripe(secretKey, { host: '127.0.0.1', port: 12111, protocol: 'http' });
 *
 * It answers, form-encoded as the SDK sends them, with the Stripe-Account header for
 * connected accounts and Idempotency-Key honoured (same key + same params → the saved
 * answer replayed with `Idempotent-Replayed: true`; same key + other params → 400
 * idempotency_error), only the calls the platform makes:
 *   POST /v1/accounts (type | controller, country, email, capabilities, business_profile[name|url], metadata)
 *   GET  /v1/accounts/{acct}                     POST /v1/account_links
 *   POST /v1/checkout/sessions (mode=payment, line_items[i][price_data][currency|unit_amount|
 *        unit_amount_decimal|product_data][name|description], line_items[i][quantity],
 *        payment_intent_data[application_fee_amount|metadata|description], client_reference_id,
 *        metadata, success_url, cancel_url, expires_at, customer_email)
 *   GET  /v1/checkout/sessions/{cs}              POST /v1/checkout/sessions/{cs}/expire
 *   GET  /v1/payment_intents/{pi}  GET /v1/charges/{ch}  POST /v1/refunds  GET /v1/refunds/{re}
 *   GET  /v1/refunds?payment_intent=&charge=&limit=&starting_after=   GET /v1/disputes?(the same)
 *   GET  /v1/disputes/{dp}  GET /v1/events/{evt} (and `expand[]` on all of them)
 * Any other param answers 400 parameter_unknown and any other route 404, so a call the
 * sandbox does not model fails loudly. Objects are the SDK's types (objects-*.ts), errors are
 * Stripe's `{error:{type, code, message, param}}` with Stripe's statuses (401 bad key, 403
 * unknown Stripe-Account, 404 resource_missing, incl. an object asked for from another account).
 *
 * Pages: an AccountLink's url is `{base}/sandbox/pages/onboard/{acct}?link=…` ("Complete
 * onboarding", then back to return_url); a session's url is `{base}/sandbox/pages/checkout/{cs}`
 * (amount and currency; "Pay", "Decline", "Pay (async success)", "Pay (async failure)",
 * "Expire"; then on to success_url with {CHECKOUT_SESSION_ID} filled in).
 *
 * Control routes (no API key), doing what the pages' buttons do, for tests:
 *   POST {base}/sandbox/accounts/{acct}/onboard → the Account (charges, payouts, details on); account.updated
 *   POST {base}/sandbox/checkout/sessions/{cs}/{outcome} →
 *     pay               → the Session, complete + paid; payment_intent.created, charge.succeeded,
 *                         payment_intent.succeeded, checkout.session.completed
 *     decline           → 402 card_error (card_declined); the session stays open and payable;
 *                         payment_intent.created (first attempt), charge.failed, payment_intent.payment_failed
 *     pay_async_success → complete + unpaid (checkout.session.completed), then paid
 *                         (checkout.session.async_payment_succeeded), with the intent/charge events
 *     pay_async_failure → complete + unpaid, then checkout.session.async_payment_failed
 *     expire            → expired; checkout.session.expired (payment_intent.canceled if one existed)
 *     refund            → the Refund; body {amount} (JSON or form) for a partial one; refund.created,
 *                         charge.refunded (amount_refunded cumulative, refunded true when full)
 *     dispute           → a chargeback of the paid charge, body {amount?, reason?}: the Dispute
 *                         (needs_response); charge.dispute.created, charge.dispute.funds_withdrawn
 *   POST {base}/sandbox/charges/{ch}/dispute {amount?, reason?} → the same for any succeeded charge
 *   POST {base}/sandbox/disputes/{dp}/close {outcome: "won"|"lost"} → charge.dispute.closed
 *        (and charge.dispute.funds_reinstated when won)
 *   POST {base}/sandbox/refunds/{re}/fail {status?: "failed"|"canceled"} → the refund fails, its amount
 *        returns to the charge; charge.refund.updated, refund.updated (refund.failed)
 *   POST {base}/sandbox/accounts/{acct}/deauthorize → account.application.deauthorized, then every
 *        call for the account answers 403 account_invalid (the owner disconnected the platform)
 *   POST {base}/sandbox/accounts/{acct}/charges {amount, currency?, metadata?, paymentIntent?} → a
 *        charge the account's owner makes itself (with its own key): nothing the platform asked for
 *   GET  {base}/sandbox/events[?type=&account=&id=] → {data:[{id, type, account, url, body, signature,
 *        attempt, status, outcome, error}]}: every delivery attempt, newest first; `body` is the exact
 *        string sent, `signature` its Stripe-Signature header (also for endpoints with no URL: not sent)
 *   POST {base}/sandbox/events/{evt}/resend   → delivers that event again (the dashboard's "Resend")
 *   GET  {base}/sandbox/requests[?account=&method=&path=] → {data:[{method, path, account, status,
 *        replayed}]}: the API's request log (the newest 10,000), newest first; `replayed`: answered
 *        from an earlier request's Idempotency-Key (the dashboard's request logs)
 *   POST {base}/sandbox/faults {failNext: n, status: 500|503|429|400|403|"timeout"} → the next n /v1
 *        calls fail with that status (Stripe's error shapes: api_error, rate_limit, parameter_unknown,
 *        account_invalid) or are never answered; GET shows, DELETE clears
 *
 * Events are Stripe.Event objects (api_version, livemode false, `account` for Connect events,
 * `request` naming the API request and idempotency key behind them, null for a customer's or
 * dashboard action). Events of a connected account go to `connectWebhookUrl`, signed with
 * `connectWebhookSecret`; the platform's own go to `platformWebhookUrl`, signed with
 * `webhookSecret`: `Stripe-Signature: t=…,v1=…` exactly as Stripe signs, each attempt afresh.
 * A non-2xx answer, a connection error or a timeout is retried with exponential backoff
 * (`retry`, default 6 attempts from 1 s doubling); first attempts to one URL go out in event order.
 * A URL left unset records the event (listed, signed, outcome "not_sent") without sending it.
 * Everything lives in memory: a restart is a fresh Stripe account.
 *
 * Wiring it (the lead's part, in packages/local/stack.ts and scripts/start.ts):
 *   const sandbox = await startStripeSandbox({
 *     port: Number(process.env.STRIPE_SANDBOX_PORT || DEFAULT_STRIPE_SANDBOX_PORT), // 0 in tests
 *     secretKey, webhookSecret, connectWebhookSecret,          // from .data/local-secrets.json
 *     platformWebhookUrl: `${apiUrl}/v1/webhooks/stripe`,
 *     connectWebhookUrl: `${apiUrl}/v1/webhooks/stripe/connect`,
 *     retry: { baseDelayMs: 200 },                              // in tests: quick retries
 *     log,
 *   });
 *   env.STRIPE_API_BASE = sandbox.url; env.STRIPE_SECRET_KEY = secretKey; …
 *   stops.push(sandbox.stop);
 * (or start it before the gateway and call sandbox.setWebhookUrls({platform, connect}) once the
 * API's URL is known). The platform's client (packages/domain/reselling/stripe-api.ts) posts to
 * STRIPE_API_BASE instead of https://api.stripe.com.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';
import type { ApiContext } from './api-context';
import type { Faults } from './control';
import { type Delivery, EventBus, type RetryPolicy } from './events';
import { expireIfDue } from './flows';
import { handle } from './server';
import { Store } from './store';

export type { Delivery, RetryPolicy } from './events';
export { signPayload } from './signing';

export const DEFAULT_STRIPE_SANDBOX_PORT = 12111;

export interface StripeSandboxOptions {
  /** 0 (the default) = any free port. Listens on 127.0.0.1 only. */
  port?: number;
  /** The only API key accepted (Bearer sk_…); anything else answers 401. */
  secretKey: string;
  /** Signs events of the platform's own account (STRIPE_WEBHOOK_SECRET). */
  webhookSecret: string;
  /** Signs events of connected accounts (STRIPE_CONNECT_WEBHOOK_SECRET). */
  connectWebhookSecret: string;
  platformWebhookUrl?: string | null;
  connectWebhookUrl?: string | null;
  retry?: RetryPolicy;
  /** Event types the endpoints receive, as a Stripe webhook endpoint's enabled_events. Default ['*']. */
  enabledEvents?: string[];
  /** Events' api_version. Default: the installed SDK's pinned version. */
  apiVersion?: string;
  log?: (line: string) => void;
}

export interface StripeSandbox {
  /** `http://127.0.0.1:<port>`: STRIPE_API_BASE. */
  url: string;
  port: number;
  setWebhookUrls(urls: { platform?: string | null; connect?: string | null }): void;
  /** Every delivery attempt so far, oldest first (GET /sandbox/events lists them newest first). */
  deliveries(): readonly Delivery[];
  /** Resolves when no delivery is in flight or waiting to be retried. */
  settled(): Promise<void>;
  stop(): Promise<void>;
}

export async function startStripeSandbox(opts: StripeSandboxOptions): Promise<StripeSandbox> {
  const log = opts.log ?? (() => {});
  const apiVersion = opts.apiVersion ?? Stripe.API_VERSION;
  const store = new Store();
  const events = new EventBus(
    store,
    {
      platform: { url: opts.platformWebhookUrl ?? null, secret: opts.webhookSecret },
      connect: { url: opts.connectWebhookUrl ?? null, secret: opts.connectWebhookSecret },
    },
    { apiVersion, retry: opts.retry, enabledEvents: opts.enabledEvents ?? ['*'], log },
  );
  const ctx: ApiContext = { store, events, baseUrl: '', secretKey: opts.secretKey };
  const faults: Faults = { remaining: 0, status: 500 };
  const held = new Set<ServerResponse>();
  const state = { ctx, faults, apiVersion, held, log };

  const server = createServer((req, res) => {
    handle(state, req, res).catch((err: Error) => {
      log(`stripe-sandbox: ${err.message}`);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  ctx.baseUrl = `http://127.0.0.1:${port}`;

  // Sessions past expires_at expire (and say so) even if nobody looks at them.
  const sweep = setInterval(() => {
    for (const rec of store.sessions.values()) expireIfDue(ctx, rec);
  }, 30_000);
  sweep.unref();

  return {
    url: ctx.baseUrl,
    port,
    setWebhookUrls(urls) {
      if (urls.platform !== undefined) events.endpoints.platform.url = urls.platform;
      if (urls.connect !== undefined) events.endpoints.connect.url = urls.connect;
    },
    deliveries: () => events.deliveries,
    settled: () => events.settled(),
    async stop() {
      clearInterval(sweep);
      events.stop();
      for (const res of held) res.destroy();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
