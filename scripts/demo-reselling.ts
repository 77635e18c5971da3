/**
 * `npm run demo:reselling`: credit reselling, step by step, against a running `npm start` and
 * its local Stripe sandbox. An Agency-plan agency connects Stripe and finishes onboarding on the
 * sandbox's page, prices credits ("Starter Pack: 100 credits for $15", 15¢ a credit); its client,
 * switched to reselling, buys the pack and then 40 credits and pays on the sandbox's Checkout
 * page; the credits land in the client's wallet; the client uses some; part of a payment is
 * refunded; the agency reads its reselling dashboard. The buttons a person would press on the
 * sandbox's pages are pressed here through its control routes (the same thing).
 */
import { randomBytes } from 'node:crypto';
import { emailedToken, jsonRequester, localApiUrl, localInboxUrl, localPlatformKey } from './lib/local-api';

const api = localApiUrl;
const sandbox = process.env.STRIPE_SANDBOX_URL ?? `http://127.0.0.1:${process.env.STRIPE_SANDBOX_PORT ?? 12111}`;
const platformKey = localPlatformKey();

const run = randomBytes(3).toString('hex');
let step = 0;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const call = jsonRequester(api);

async function press(path: string, body?: Record<string, unknown>) {
  const res = await fetch(`${sandbox}${path}`, {
    method: 'POST',
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (res.status !== 200) throw new Error(`sandbox ${path} → ${res.status} ${await res.text()}`);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function say(text: string, detail?: unknown) {
  console.log(`\n${++step}. ${text}`);
  if (detail !== undefined) console.log(`   ${JSON.stringify(detail)}`);
}

/** An Agency-plan agency (the platform sets plans) whose owner followed the emailed verification link. */
async function agencyOnAgencyPlan() {
  const email = `dana-${run}@demo.test`;
  const signup = (
    await call('POST', '/v1/agencies', {
      body: { agencyName: `Bloom Agency ${run}`, name: 'Dana', email, password: 'demo-password-123' },
    })
  ).body;
  await call('PATCH', `/v1/admin/agencies/${signup.agency.id}`, { token: platformKey, body: { plan: 'agency' } });
  await call('POST', '/v1/auth/verify-email', { body: { token: await emailedToken(localInboxUrl, email) } });
  return signup;
}

const signup = await agencyOnAgencyPlan();
const token: string = signup.token;
say(`Signed up "${signup.agency.name}" (${signup.agency.id}) on the Agency plan, email verified`);

const connect = (await call('POST', '/v1/reselling/stripe/connect', { token })).body;
say('Connected a Stripe account; the agency would open this onboarding link:', connect);
await press(`/sandbox/accounts/${connect.accountId}/onboard`);
const settings = await until('Stripe to enable charges (account.updated)', async () => {
  const s = (await call('GET', '/v1/reselling/settings', { token })).body;
  return s.stripe?.chargesEnabled ? s : undefined;
});
say('Finished onboarding on the sandbox page; Stripe said so (account.updated)', settings.stripe);

const pricing = (
  await call('PUT', '/v1/reselling/pricing', {
    token,
    body: { currency: 'usd', perCreditPrice: '15', packages: [{ name: 'Starter Pack', credits: 100, price: 1500 }] },
  })
).body.pricing;
say(`Set pricing at or above the platform minimum (${settings.platform.minimumCreditPrice.usd}¢ a credit)`, pricing);
const tooCheap = await call('PUT', '/v1/reselling/pricing', {
  token,
  body: { currency: 'usd', perCreditPrice: '0.5', packages: [] },
  ok: [422],
});
say('A price below the minimum is refused', {
  status: tooCheap.status,
  code: tooCheap.body.code,
  minimum: tooCheap.body.minimum,
});

const created = (
  await call('POST', '/v1/sub-accounts', { token, body: { name: 'Bloom Florists', email: `bloom-${run}@demo.test` } })
).body;
const subId: string = created.subAccount.id;
await call('PATCH', `/v1/sub-accounts/${subId}`, { token, body: { creditMode: 'reselling' } });
const login = (await call('POST', '/v1/auth/login', { body: { email: `bloom-${run}@demo.test`, password: created.password } }))
  .body;
const client: string = login.token;
say(`Created "Bloom Florists" (${subId}) and switched it to reselling; its owner logged in`);

const offers = (await call('GET', `/v1/accounts/${subId}/credit-offers`, { token: client })).body;
say('The client opens its offers', offers);

async function buyAndPay(body: Record<string, unknown>, label: string) {
  const { purchase, checkoutUrl } = (
    await call('POST', `/v1/accounts/${subId}/credit-purchases`, { token: client, body, key: `demo-${run}-${label}` })
  ).body;
  say(`The client buys ${label}: a Checkout Session on the agency's Stripe account`, {
    purchase: purchase.id,
    amount: purchase.amount,
    checkoutUrl,
  });
  await press(`/sandbox/checkout/sessions/${purchase.checkoutSessionId}/pay`);
  const wallet = await until('the credits to land', async () => {
    const p = (await call('GET', `/v1/accounts/${subId}/credit-purchases`, { token: client })).body.items.find(
      (i: any) => i.id === purchase.id,
    );
    return p?.status === 'paid' ? (await call('GET', `/v1/accounts/${subId}/wallet`, { token: client })).body : undefined;
  });
  say('Paid on the sandbox Checkout page; checkout.session.completed put the credits in the wallet', wallet);
  return purchase;
}

await buyAndPay({ packageId: offers.packages[0].id }, 'the Starter Pack');
const forty = await buyAndPay({ credits: 40 }, '40 credits');

await call('POST', `/v1/accounts/${subId}/usage`, {
  token: platformKey,
  key: `demo-${run}-use`,
  body: { type: 'ai_response', quantity: 30, conversationId: 'conv_1' },
});
say(
  "The client's AI bot answers 30 conversations from its wallet",
  (await call('GET', `/v1/accounts/${subId}/wallet`, { token: client })).body,
);

await press(`/sandbox/checkout/sessions/${forty.checkoutSessionId}/refund`, { amount: 300 });
const refunded = await until('the refund', async () => {
  const p = (await call('GET', `/v1/accounts/${subId}/credit-purchases`, { token: client })).body.items.find(
    (i: any) => i.id === forty.id,
  );
  return p?.status === 'refunded' ? p : undefined;
});
say('The agency refunds $3.00 of the 40 credits ($6.00) at Stripe: half of them go back', {
  creditsRefunded: refunded.creditsRefunded,
  wallet: (await call('GET', `/v1/accounts/${subId}/wallet`, { token: client })).body,
});

// The daily consumption comes from the usage rollups, built from the table stream a few seconds behind.
const dashboard = await until('the usage rollups to count the 30 credits', async () => {
  const body = (await call('GET', '/v1/reselling/dashboard', { token })).body;
  const mine = body.items.find((i: any) => i.subAccountId === subId);
  return mine?.series.some((d: any) => d.consumed >= 30) ? body : undefined;
});
const row = dashboard.items.find((i: any) => i.subAccountId === subId);
say("The agency's reselling dashboard for Bloom Florists", {
  purchasedCredits: row.purchasedCredits,
  totalSpend: `${(row.totalSpend / 100).toFixed(2)} ${dashboard.currency.toUpperCase()}`,
  consumedCredits: row.consumedCredits,
  refundedCredits: row.refundedCredits,
  remaining: row.remaining,
  today: row.series[row.series.length - 1],
});
console.log(`\nEvery event the sandbox sent: ${sandbox}/sandbox/events\n`);
