import { randomBytes } from 'node:crypto';
import type { FidelityStats } from '#local/dynamo-fidelity/meter';
import type { LocalStack } from '#local/stack';
import { cell, percentile } from './figures';
import { backgroundIdle } from './hot';
import { agencyWithPool, apiOf, debitOnce, makeReselling, subAccounts } from './setup';

/**
 * `npm run bench -- --batch`: what `POST /v1/usage/batch` costs per event, counted by the
 * DynamoDB fidelity proxy as AWS would bill it (write calls, failed ones, write units with the
 * index copies, the hottest item), background writes (the usage rollups) included: batches of
 * `size` events sent one after another to one busy pool over many sub-accounts, to ONE limited
 * sub-account, to ONE wallet; then each batch sent again (a client's retry: replays only).
 */
export interface BatchOptions {
  batches: number;
  size: number;
}

interface Scenario {
  title: string;
  accounts: string[];
}

export async function runBatch(stack: LocalStack, opts: BatchOptions): Promise<void> {
  const fidelity = stack.fidelity;
  if (!fidelity) throw new Error('the batch bench runs through the fidelity proxy (dynamoFidelity)');
  const api = apiOf(stack);
  const run = randomBytes(3).toString('hex');
  const platform = { authorization: `Bearer ${stack.platformApiKey}` };
  fidelity.configure({ latency: false, conflicts: false });

  console.log('\nSetting up one agency: 100 manual sub-accounts, one with a monthly limit, one reselling…');
  const agency = await agencyWithPool(api, stack.platformApiKey, run, stack.sesUrl);
  const subs = await subAccounts(api, agency, 102, 'batch');
  const [limited, reseller] = subs.slice(100) as [string, string];
  await api(
    'PATCH',
    `/v1/sub-accounts/${limited}`,
    { monthlyCreditLimit: 1_000_000_000 },
    { authorization: `Bearer ${agency.token}` },
  );
  await makeReselling(api, agency, reseller, 100_000_000, run);
  await debitOnce(api, stack.platformApiKey, subs, run);
  const scenarios: Scenario[] = [
    { title: '(a) the agency pool, events spread over 100 manual sub-accounts', accounts: subs.slice(0, 100) },
    { title: '(b) ONE manual sub-account with a monthly limit (pool + its meter)', accounts: [limited] },
    { title: '(c) ONE reselling sub-account (its wallet)', accounts: [reseller] },
  ];

  console.log(
    `\n${opts.batches} batches of ${opts.size} events per scenario, one batch at a time (no latency model: times are this machine's).` +
      '\nPer event, counted by the fidelity proxy, the usage rollups written from the stream included:' +
      '\n  calls = write calls; failed = cancelled transactions and failed conditions; WU = billed write units' +
      '\n  (table and index); item = committed writes on the hottest item.',
  );
  console.log('                      ms/batch p50   events/s  calls  failed     WU   item   non-201');
  let seq = 0;
  for (const s of scenarios) {
    console.log(`\n${s.title}`);
    const sent: unknown[] = [];
    for (const replay of [false, true]) {
      await backgroundIdle(stack);
      await fidelity.reset();
      const times: number[] = [];
      let other = 0;
      const started = performance.now();
      for (let b = 0; b < opts.batches; b++) {
        const events =
          (sent[b] as unknown[] | undefined) ??
          Array.from({ length: opts.size }, (_, i) => ({
            accountId: s.accounts[i % s.accounts.length],
            type: 'ai_response',
            quantity: 1,
            contactId: 'contact_0001',
            conversationId: 'conv_0001',
            idempotencyKey: `b-${run}-${seq++}`,
          }));
        sent[b] = events;
        const t0 = performance.now();
        const out = await api('POST', '/v1/usage/batch', { events }, platform);
        times.push(performance.now() - t0);
        other += (out.results as Array<{ status: number }>).filter((r) => r.status !== 201).length;
      }
      const seconds = (performance.now() - started) / 1000;
      await backgroundIdle(stack);
      console.log(
        row(
          replay ? '  replayed' : '  first sent',
          times,
          (opts.batches * opts.size) / seconds,
          opts,
          await fidelity.stats(1),
          other,
        ),
      );
    }
  }
}

function row(label: string, times: number[], rate: number, opts: BatchOptions, s: FidelityStats, other: number): string {
  const n = opts.batches * opts.size;
  const t = s.totals;
  const per = (x: number, w = 7) => cell(x / n, w, 2);
  return [
    label.padEnd(22),
    cell(
      percentile(
        [...times].sort((a, b) => a - b),
        0.5,
      ),
      12,
      0,
    ),
    cell(rate, 10, 0),
    per(t.writeCalls),
    per(t.cancelled + t.conditionFailed),
    per(t.writeUnits),
    per(s.hottest.items[0]?.writes ?? 0),
    String(other).padStart(9),
  ].join(' ');
}
