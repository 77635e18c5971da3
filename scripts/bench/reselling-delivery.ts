/**
 * Part of `npm run bench`: how long after the Stripe sandbox delivers checkout.session.completed
 * the credits are readable in the client's wallet, over 50 purchases, against a running local
 * stack (its API and its sandbox). The clock starts when the sandbox is told the customer paid
 * (its control route emits the event and starts delivering it at once: the sandbox sends only
 * the events the platform subscribes to, so nothing queues ahead of it) and stops at the first
 * GET of the wallet that shows the credits (polled back to back).
 */
import { randomBytes } from 'node:crypto';
import type { LocalStackInfo } from '#local/stack';
import { emailedToken, jsonCaller } from '../lib/local-api';

export async function benchDelivery(stack: LocalStackInfo, purchases = 50) {
  if (!stack.stripeSandboxUrl) throw new Error('the delivery bench needs the local Stripe sandbox');
  const sandbox = stack.stripeSandboxUrl;
  const run = randomBytes(3).toString('hex');
  const call = jsonCaller(stack.apiUrl);
  const control = async (path: string) => {
    const res = await fetch(`${sandbox}${path}`, { method: 'POST' });
    if (res.status !== 200) throw new Error(`${path} → ${res.status}`);
    await res.arrayBuffer();
  };

  // An Agency-plan agency (the platform sets plans) whose owner verified the emailed link.
  const email = `resale-${run}@bench.test`;
  const signup = await call('POST', '/v1/agencies', {
    body: { agencyName: 'Bench resale', name: 'B', email, password: 'bench-password-1' },
  });
  await call('PATCH', `/v1/admin/agencies/${signup.agency.id}`, { token: stack.platformApiKey, body: { plan: 'agency' } });
  await call('POST', '/v1/auth/verify-email', { body: { token: await emailedToken(stack.sesUrl, email) } });
  const token: string = signup.token;
  const { accountId } = await call('POST', '/v1/reselling/stripe/connect', { token });
  await control(`/sandbox/accounts/${accountId}/onboard`);
  for (let i = 0; !(await call('GET', '/v1/reselling/settings', { token })).stripe.chargesEnabled; i++) {
    if (i > 200) throw new Error('account.updated never arrived');
    await new Promise((r) => setTimeout(r, 20));
  }
  await call('PUT', '/v1/reselling/pricing', { token, body: { currency: 'usd', perCreditPrice: '15', packages: [] } });
  const sub = await call('POST', '/v1/sub-accounts', { token, body: { name: 'Bench buyer', email: `buyer-${run}@bench.test` } });
  const subId: string = sub.subAccount.id;
  await call('PATCH', `/v1/sub-accounts/${subId}`, { token, body: { creditMode: 'reselling' } });

  const wallet = async () => (await call('GET', `/v1/accounts/${subId}/wallet`, { token })).balance as number;
  const latencies: number[] = [];
  let balance = 0;
  for (let i = 0; i < purchases + 3; i++) {
    const { purchase } = await call('POST', `/v1/accounts/${subId}/credit-purchases`, {
      token,
      body: { credits: 10 },
      key: `bench-${run}-${i}`,
    });
    const started = performance.now();
    await control(`/sandbox/checkout/sessions/${purchase.checkoutSessionId}/pay`);
    while ((await wallet()) < balance + 10) {
      if (performance.now() - started > 30_000) throw new Error('the credits never landed');
    }
    balance += 10;
    // The first three warm up the webhook function (module load, hints, connections).
    if (i >= 3) latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? Number.NaN;
  return {
    purchases: latencies.length,
    p50: pct(0.5),
    p99: pct(0.99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    agencyId: signup.agency.id as string,
    subAccountId: subId,
  };
}
