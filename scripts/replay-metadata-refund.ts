/**
 * `npx tsx scripts/replay-metadata-refund.ts`: replays, against a running `npm start`, how an
 * agency could once mint credits (issue 20). An agency connects a Standard Stripe account, so
 * it has full API access to it and Stripe's Connect webhook reports every charge on it. Its
 * client starts a 1,000-credit purchase and does not pay. The agency then charges a card on its
 * own account with `metadata.purchaseId` naming that purchase, and refunds 1 cent of it: Stripe
 * sends a genuinely signed `charge.refunded`. Signed here with Stripe's own SDK and the stack's
 * Connect webhook secret (.data/local-secrets.json), exactly as Stripe would sign it.
 *
 * Prints the purchase and the client's wallet before and after. Before the fix: the purchase
 * became `refunded` and the wallet went 0 → 1,000. Now: nothing moves (the event is parked on
 * the agency's own PaymentIntent, which no purchase of ours ever bound).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Stripe from 'stripe';
import { emailedToken, jsonRequester, localApiUrl, localInboxUrl, localPlatformKey } from './lib/local-api';

const sandbox = process.env.STRIPE_SANDBOX_URL ?? `http://127.0.0.1:${process.env.STRIPE_SANDBOX_PORT ?? 12111}`;
const secrets = JSON.parse(readFileSync('.data/local-secrets.json', 'utf8')) as { stripeConnectWebhookSecret?: string };
const connectSecret = process.env.STRIPE_CONNECT_WEBHOOK_SECRET ?? secrets.stripeConnectWebhookSecret;
if (!connectSecret) throw new Error('No Connect webhook secret: start the stack with `npm start` first');
const call = jsonRequester(localApiUrl);
const run = randomBytes(3).toString('hex');

async function press(path: string) {
  const res = await fetch(`${sandbox}${path}`, { method: 'POST' });
  if (res.status !== 200) throw new Error(`sandbox ${path} → ${res.status} ${await res.text()}`);
}

// An Agency-plan agency, ready to sell, and a reselling client with a pending 1,000-credit purchase.
const email = `mallory-${run}@demo.test`;
const signup = (
  await call('POST', '/v1/agencies', {
    body: { agencyName: `Mallory ${run}`, name: 'Mallory', email, password: 'demo-password-123' },
  })
).body;
const token: string = signup.token;
await call('PATCH', `/v1/admin/agencies/${signup.agency.id}`, { token: localPlatformKey(), body: { plan: 'agency' } });
await call('POST', '/v1/auth/verify-email', { body: { token: await emailedToken(localInboxUrl, email) } });
const { accountId } = (await call('POST', '/v1/reselling/stripe/connect', { token })).body;
await press(`/sandbox/accounts/${accountId}/onboard`);
for (let i = 0; (await call('GET', '/v1/reselling/settings', { token })).body.stripe?.chargesEnabled !== true; i++) {
  if (i > 100) throw new Error('onboarding never reached the API');
  await new Promise((r) => setTimeout(r, 100));
}
await call('PUT', '/v1/reselling/pricing', { token, body: { currency: 'usd', perCreditPrice: '15', packages: [] } });
const sub = (await call('POST', '/v1/sub-accounts', { token, body: { name: 'Client', email: `client-${run}@demo.test` } })).body
  .subAccount;
await call('PATCH', `/v1/sub-accounts/${sub.id}`, { token, body: { creditMode: 'reselling' } });
const purchase = (await call('POST', `/v1/accounts/${sub.id}/credit-purchases`, { token, money: true, body: { credits: 1000 } }))
  .body.purchase;

const look = async () => {
  const [purchases, wallet] = await Promise.all([
    call('GET', `/v1/accounts/${sub.id}/credit-purchases`, { token }),
    call('GET', `/v1/accounts/${sub.id}/wallet`, { token }),
  ]);
  const p = purchases.body.items.find((x: { id: string }) => x.id === purchase.id);
  return { purchase: p.status, wallet: wallet.body.balance };
};
console.log(`pending purchase ${purchase.id}: ${purchase.credits} credits for ${purchase.amount} ${purchase.currency}`);
console.log('before:', await look());

// The agency's own charge, on its own account, naming the purchase; 1 cent of it refunded.
const event = {
  id: `evt_${randomBytes(12).toString('hex')}`,
  object: 'event',
  account: accountId,
  api_version: Stripe.API_VERSION,
  created: Math.floor(Date.now() / 1000),
  data: {
    object: {
      id: `ch_${randomBytes(12).toString('hex')}`,
      object: 'charge',
      amount: purchase.amount,
      amount_captured: purchase.amount,
      amount_refunded: 1,
      currency: purchase.currency,
      paid: true,
      refunded: false,
      status: 'succeeded',
      payment_intent: `pi_${randomBytes(12).toString('hex')}`,
      metadata: { purchaseId: purchase.id },
    },
  },
  livemode: false,
  pending_webhooks: 1,
  request: { id: null, idempotency_key: null },
  type: 'charge.refunded',
};
const payload = JSON.stringify(event, null, 2);
const res = await fetch(`${localApiUrl}/v1/webhooks/stripe/connect`, {
  method: 'POST',
  headers: {
    'content-type': 'application/json',
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload, secret: connectSecret }),
  },
  body: payload,
});
console.log(`charge.refunded (signed with Stripe's SDK) → ${res.status} ${await res.text()}`);
console.log('after: ', await look());
