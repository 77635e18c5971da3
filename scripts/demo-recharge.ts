/**
 * `npm run demo:recharge`: auto-recharge through the agency's own payment server, against a
 * running `npm start`. An Agency-plan agency (pool topped up by the platform) starts the
 * example payment server, saves its URL as the auto-recharge webhook and gets the signing
 * secret, switches a client to reselling with 100 credits and auto-recharge below 50 (200 at a
 * time); the client uses 60, its wallet drops to 40, the webhook arrives signed, the server
 * "charges" and grants with the request id, and the wallet is refilled: 240.
 */
import { randomBytes } from 'node:crypto';
import { startPaymentServer } from './example-payment-server';
import { emailedToken, jsonCaller, localApiUrl, localInboxUrl, localPlatformKey } from './lib/local-api';

const api = localApiUrl;
const platformKey = localPlatformKey();

const run = randomBytes(3).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let step = 0;
const say = (text: string, detail?: unknown) => {
  console.log(`\n${++step}. ${text}`);
  if (detail !== undefined) console.log(`   ${JSON.stringify(detail)}`);
};

const call = jsonCaller(api);

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) {
    const v = await probe();
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

const email = `ann-${run}@demo.test`;
const signup = await call('POST', '/v1/agencies', {
  body: { agencyName: `Acme ${run}`, name: 'Ann', email, password: 'demo-password-123' },
});
const token: string = signup.token;
await call('PATCH', `/v1/admin/agencies/${signup.agency.id}`, { token: platformKey, body: { plan: 'agency' } });
await call('POST', '/v1/auth/verify-email', { body: { token: await emailedToken(localInboxUrl, email) } });
await call('POST', `/v1/admin/agencies/${signup.agency.id}/credits`, {
  token: platformKey,
  money: true,
  body: { credits: 1000, reference: 'demo' },
});
say(`Agency "${signup.agency.name}" on the Agency plan, email verified, pool topped up with 1,000 credits`);

const apiKey: string = (await call('POST', '/v1/api-keys', { token, body: { name: 'payment server' } })).key;
let secret = '';
const refilled: string[] = [];
const server = await startPaymentServer({
  secret: () => secret,
  apiKey,
  apiUrl: api,
  log: (line) => {
    console.log(`   [payment server] ${line}`);
    refilled.push(line);
  },
});
say(`Started the example payment server at ${server.url} (npm run example:payment-server runs the same code)`);

const saved = await call('PUT', '/v1/reselling/auto-recharge-webhook', { token, body: { url: server.url } });
secret = saved.secret;
say('Saved it as the auto-recharge webhook; the signing secret is shown this once', {
  ...saved,
  secret: `${secret.slice(0, 10)}…`,
});

const sub = (
  await call('POST', '/v1/sub-accounts', {
    token,
    body: { name: 'Bloom Florists', email: `bloom-${run}@demo.test`, clientLogin: false },
  })
).subAccount.id as string;
await call('PATCH', `/v1/sub-accounts/${sub}`, { token, body: { creditMode: 'reselling' } });
await call('POST', `/v1/sub-accounts/${sub}/credits/grants`, { token, money: true, body: { credits: 100 } });
const patched = await call('PATCH', `/v1/sub-accounts/${sub}`, {
  token,
  body: { autoRecharge: { enabled: true, threshold: 50, credits: 200 } },
});
say(
  'Client "Bloom Florists" in reselling mode with 100 credits; auto-recharge below 50, 200 at a time',
  patched.subAccount.autoRecharge,
);

await call('POST', `/v1/accounts/${sub}/usage`, {
  token: platformKey,
  money: true,
  body: { type: 'campaign_message', quantity: 60 },
});
say('The client uses 60 credits: its wallet drops to 40, below the threshold');

const wallet = await until('the wallet to be refilled', async () => {
  const w = await call('GET', `/v1/accounts/${sub}/wallet`, { token });
  return w.balance > 40 ? w : undefined;
});
say('The webhook arrived, the server charged and granted with the request id: the wallet is refilled', wallet);
const [request] = (await call('GET', '/v1/reselling/recharge-requests', { token })).items;
say('The recharge request is closed', request);
const [delivery] = (await call('GET', '/v1/reselling/webhook-deliveries', { token })).items;
say('And the delivery log shows the one attempt', delivery);
server.server.close();
process.exit(0);
