/**
 * `npm run bench`: usage debits against ONE agency pool, through the HTTP API of a local
 * stack started here (in memory), at concurrency 1, 8 and 32; then, in the same process and
 * against the same DynamoDB Local, the same debits without HTTP (the use case called
 * directly: one TransactWriteItems of the same items per debit). Prints debits/s, p50/p99,
 * the API/raw ratio, DynamoDB calls per successful debit, and write units per debit computed
 * from the stored items' sizes (DynamoDB Local does not report real consumption). Then the
 * reselling delivery time: the Stripe sandbox's checkout.session.completed → credits in the wallet.
 */

import { randomBytes } from 'node:crypto';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { checkJava } from '../packages/local/dynamodb';
import { startLocalStack } from '../packages/local/stack';
import { itemSize, writeUnitsPerDebit } from './bench/item-size';

// Node 20 is this project's local baseline; the SDK's notice about its future Node 22 floor is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const problem = checkJava();
if (problem) {
  console.error(problem);
  process.exit(1);
}
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const levels = [1, 8, 32];

const stack = await startLocalStack({ queueVisibilitySeconds: 5 });
// Imported after the stack set the environment, like a Lambda cold start.
const { db, dynamo, table } = await import('../packages/db/client');
const { recordUsage } = await import('../packages/domain/ledger/usage');

let dynamoCalls = 0;
dynamo.middlewareStack.add(
  (next) => async (args) => {
    dynamoCalls++;
    return next(args);
  },
  { step: 'initialize', name: 'count-calls' },
);

async function post(path: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as any;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const run = randomBytes(3).toString('hex');
const signup = await post(
  '/v1/agencies',
  { agencyName: 'Bench', name: 'B', email: `bench-${run}@bench.test`, password: 'bench-password-1', plan: 'agency' },
  {},
);
const agencyId: string = signup.agency.id;
await post(
  `/v1/admin/agencies/${agencyId}/credits`,
  { credits: 1_000_000_000, reference: 'bench' },
  { authorization: `Bearer ${stack.platformApiKey}`, 'idempotency-key': `bench-${run}` },
);
const sub = await post(
  '/v1/sub-accounts',
  { name: 'Bench client', email: `client-${run}@bench.test` },
  { authorization: `Bearer ${signup.token}` },
);
const subAccountId: string = sub.subAccount.id;
const body = { type: 'ai_response', quantity: 1, contactId: 'contact_0001', conversationId: 'conv_0001' };

let seq = 0;
const viaApi = async () => {
  const res = await fetch(`${stack.apiUrl}/v1/accounts/${subAccountId}/usage`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${stack.platformApiKey}`,
      'idempotency-key': `api-${run}-${seq++}`,
    },
    body: JSON.stringify(body),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`usage → ${res.status}`);
};
let lastRawKey = '';
const direct = async () => {
  lastRawKey = `raw-${run}-${seq++}`;
  await recordUsage({ kind: 'platform' }, subAccountId, body as never, lastRawKey);
};

async function measure(op: () => Promise<void>, concurrency: number) {
  for (let i = 0; i < 20; i++) await op(); // warm: module load, hints, connections
  const latencies: number[] = [];
  const callsBefore = dynamoCalls;
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t = performance.now();
        await op();
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!;
  return {
    rate: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    calls: (dynamoCalls - callsBefore) / latencies.length,
  };
}

console.log(`\nUsage debits against one pool, ${seconds}s per level (DynamoDB Local, in memory)\n`);
console.log('raw = the same use case without HTTP: one TransactWriteItems per debit, serialized per pool as in the API');
console.log('concurrency  api debits/s  p50 ms  p99 ms  calls/debit | raw debits/s  p50 ms  p99 ms  calls/debit | api/raw');
for (const c of levels) {
  const a = await measure(viaApi, c);
  const r = await measure(direct, c);
  const f = (n: number, w = 8, d = 1) => n.toFixed(d).padStart(w);
  console.log(
    `${String(c).padStart(11)}  ${f(a.rate, 12)} ${f(a.p50, 7)} ${f(a.p99, 7)} ${f(a.calls, 12, 2)} | ${f(r.rate, 12)} ${f(r.p50, 7)} ${f(r.p99, 7)} ${f(r.calls, 12, 2)} | ${f(a.rate / r.rate, 7, 2)}`,
  );
}

// For context, the engine's own ceiling: bare TransactWriteItems of four items shaped like a
// debit's, on keys no other call touches (so nothing serializes them), at the same concurrency.
const { TransactWriteCommand } = await import('@aws-sdk/lib-dynamodb');
console.log('\nEngine ceiling (bare 4-item TransactWriteItems on distinct keys, no shared pool):');
for (const c of levels) {
  const bare = async () => {
    const n = seq++;
    await db.send(
      new TransactWriteCommand({
        TransactItems: ['pool', 'meter', 'entry', 'day'].map((part) => ({
          Put: { TableName: table(), Item: { pk: `BENCH#${run}#${n}`, sk: part, balance: n, kind: 'bench' } },
        })),
      }),
    );
  };
  const b = await measure(bare, c);
  console.log(
    `${String(c).padStart(11)}  ${b.rate.toFixed(1).padStart(12)} tx/s  p50 ${b.p50.toFixed(1)} ms  p99 ${b.p99.toFixed(1)} ms`,
  );
}

// Write units: the items one debit writes, as stored now.
const get = async (pk: string, sk: string) => (await db.send(new GetCommand({ TableName: table(), Key: { pk, sk } }))).Item!;
const { poolKey } = await import('../packages/db/items/balance');
const { accountKey } = await import('../packages/db/items/account');
const { usageDayKey } = await import('../packages/db/items/usage-day');
const { idempotencyKey } = await import('../packages/db/items/ledger-entry');
const today = new Date().toISOString().slice(0, 10);
const pool = await get(poolKey(agencyId).pk, poolKey(agencyId).sk);
const account = await get(accountKey(subAccountId).pk, accountKey(subAccountId).sk);
const day = await get(usageDayKey(agencyId, today, subAccountId).pk, usageDayKey(agencyId, today, subAccountId).sk);
const entryKey = idempotencyKey({ agencyId, operation: 'usage', accountId: subAccountId, idempotencyKey: lastRawKey });
const entry = await get(entryKey.pk, entryKey.sk);
const wu = writeUnitsPerDebit([
  { name: 'pool balance', size: itemSize(pool), indexed: false },
  { name: 'sub-account (guard + monthly meter)', size: itemSize(account), indexed: true },
  { name: 'ledger entry (+ idempotency key)', size: itemSize(entry), indexed: true },
  { name: 'usage day counter', size: itemSize(day), indexed: false },
]);
console.log('\nWrite units per debit (AWS pricing: 2 per KB per transactional item, 1 per KB per GSI copy):');
for (const line of wu.lines) console.log(`  ${line}`);
console.log(`  total: ${wu.total} write units per debit`);

// Reselling: Stripe's checkout.session.completed → credits readable in the wallet.
const { benchDelivery } = await import('./bench/reselling-delivery');
const delivery = await benchDelivery(stack.info);
console.log(
  `\nStripe sandbox checkout.session.completed → credits readable in the wallet (${delivery.purchases} purchases, one at a time):`,
);
console.log(
  `  p50 ${delivery.p50.toFixed(1)} ms  p99 ${delivery.p99.toFixed(1)} ms  max ${delivery.max.toFixed(1)} ms  (from the "Pay" to the first wallet GET that shows the credits)`,
);

// A debit from that client's wallet: the same items, the wallet instead of the pool, and the day
// counter also listed in the reselling series (its gsi1 copy).
const walletKey = `wallet-${run}`;
await post(
  `/v1/accounts/${delivery.subAccountId}/usage`,
  { type: 'ai_response', quantity: 1 },
  { authorization: `Bearer ${stack.platformApiKey}`, 'idempotency-key': walletKey },
);
const { walletKey: walletItemKey } = await import('../packages/db/items/balance');
const wallet = await get(walletItemKey(delivery.subAccountId).pk, walletItemKey(delivery.subAccountId).sk);
const buyer = await get(accountKey(delivery.subAccountId).pk, accountKey(delivery.subAccountId).sk);
const walletDayKey = usageDayKey(delivery.agencyId, today, delivery.subAccountId);
const walletDay = await get(walletDayKey.pk, walletDayKey.sk);
const walletEntryKey = idempotencyKey({
  agencyId: delivery.agencyId,
  operation: 'usage',
  accountId: delivery.subAccountId,
  idempotencyKey: walletKey,
});
const walletEntry = await get(walletEntryKey.pk, walletEntryKey.sk);
const wwu = writeUnitsPerDebit([
  { name: 'wallet balance', size: itemSize(wallet), indexed: false },
  { name: 'sub-account (guard + monthly meter)', size: itemSize(buyer), indexed: true },
  { name: 'ledger entry (+ idempotency key)', size: itemSize(walletEntry), indexed: true },
  { name: 'usage day counter (+ reselling series)', size: itemSize(walletDay), indexed: Boolean(walletDay.gsi1pk) },
]);
console.log('\nWrite units per debit from a reselling wallet:');
for (const line of wwu.lines) console.log(`  ${line}`);
console.log(`  total: ${wwu.total} write units per debit`);

await stack.stop();
process.exit(0);
