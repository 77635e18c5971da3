/**
 * `npm run demo`: the product spec's own example, replayed against a running `npm start`.
 * An agency with 1,000 credits; Client A's campaign reaches 50 contacts; Client B's AI bot
 * answers 30 conversations; the agency has 920 left and sees who used what; each client sees
 * its own usage and never a balance.
 */
import { randomBytes } from 'node:crypto';
import { emailedToken, jsonCaller, localApiUrl, localInboxUrl, localPlatformKey } from './lib/local-api';

const api = localApiUrl;
const platformKey = localPlatformKey();

const run = randomBytes(3).toString('hex');
let step = 0;

const call = jsonCaller(api);

function say(text: string, detail?: unknown) {
  console.log(`\n${++step}. ${text}`);
  if (detail !== undefined) console.log(`   ${JSON.stringify(detail)}`);
}

const agency = await call('POST', '/v1/agencies', {
  body: {
    agencyName: `Demo Agency ${run}`,
    name: 'Dana',
    email: `dana-${run}@demo.test`,
    password: 'demo-password-123',
  },
});
const token: string = agency.token;
say(`Signed up "${agency.agency.name}" (${agency.agency.id}), plan ${agency.agency.plan}`);

// Plans are the platform's to set: every agency signs up on starter.
const upgraded = await call('PATCH', `/v1/admin/agencies/${agency.agency.id}`, {
  token: platformKey,
  body: { plan: 'agency' },
});
say(`The platform puts it on the ${upgraded.agency.plan} plan`, { features: upgraded.agency.features });
// The owner confirms the email before the platform emails clients on the agency's behalf:
// the link arrives in the local inbox (the SES emulator), its token goes to verify-email.
const verifyToken = await emailedToken(localInboxUrl, `dana-${run}@demo.test`);
await call('POST', '/v1/auth/verify-email', { body: { token: verifyToken } });
say("Dana followed the verification link from the inbox: the agency's email is verified");

const topUp = await call('POST', `/v1/admin/agencies/${agency.agency.id}/credits`, {
  token: platformKey,
  key: `demo-${run}-topup`,
  body: { credits: 1000, reference: `demo-invoice-${run}` },
});
say('The platform tops up the agency pool with 1,000 credits', { balance: topUp.balance });

const clientA = await call('POST', '/v1/sub-accounts', { token, body: { name: 'Client A', email: `client-a-${run}@demo.test` } });
const clientB = await call('POST', '/v1/sub-accounts', { token, body: { name: 'Client B', email: `client-b-${run}@demo.test` } });
say('Created two sub-accounts; each client got an email with its login', {
  clientA: clientA.subAccount.id,
  clientB: clientB.subAccount.id,
});

await call('POST', `/v1/accounts/${clientA.subAccount.id}/usage`, {
  token: platformKey,
  key: `demo-${run}-a`,
  body: { type: 'campaign_message', quantity: 50, campaignId: 'cmp_spring_sale', contactId: 'contact_list_spring' },
});
say("Client A's campaign reaches 50 contacts (50 credits)");

for (let i = 0; i < 30; i++) {
  await call('POST', `/v1/accounts/${clientB.subAccount.id}/usage`, {
    token: platformKey,
    key: `demo-${run}-b-${i}`,
    body: { type: 'ai_response', quantity: 1, conversationId: `conv_${i + 1}`, contactId: `contact_${i + 1}` },
  });
}
say("Client B's AI bot answers 30 conversations (30 credits)");

const balance = await call('GET', '/v1/credits/balance', { token });
say('The agency balance', balance);

const history = await call('GET', '/v1/credits/transactions?limit=3', { token });
say('Newest transactions (sub-account, contact, campaign behind each charge)');
for (const e of history.items) {
  console.log(
    `   ${e.createdAt}  ${e.type.padEnd(16)} ${String(e.credits).padStart(6)}  after ${e.balanceAfter}  sub=${e.subAccountId} contact=${e.contactId} campaign=${e.campaignId}`,
  );
}

// The dashboards read the usage rollups, built from the table stream a few seconds behind the ledger.
let usage = await call('GET', '/v1/credits/usage', { token });
for (let waited = 0; usage.total < 80 && waited < 30_000; waited += 500) {
  await new Promise((r) => setTimeout(r, 500));
  usage = await call('GET', '/v1/credits/usage', { token });
}
say('Usage per sub-account (the usage rollups, a few seconds behind the ledger)', usage.bySubAccount);
say('Daily series (last 3 days)', usage.series.slice(-3));

const login = await call('POST', '/v1/auth/login', { body: { email: clientA.subAccount.email, password: clientA.password } });
const own = await call('GET', `/v1/accounts/${clientA.subAccount.id}/usage`, { token: login.token });
say('Client A logs in and sees its own usage, no balance', { total: own.total, byType: own.byType });
const denied = await fetch(`${api}/v1/credits/balance`, { headers: { authorization: `Bearer ${login.token}` } });
say(`Client A asking for the pool balance gets ${denied.status}`);
console.log('\nDone.');
