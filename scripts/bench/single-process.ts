import { randomBytes } from 'node:crypto';
import type { LocalStack } from '#local/stack';
import { cell, percentile } from './figures';
import { agencyWithPool, apiOf, subAccounts } from './setup';

/**
 * The single-process mode: usage debits against ONE agency pool, through the HTTP API of the
 * local stack (whose gateway runs every handler in this process: one "container"), at
 * concurrency 1, 8 and 32; then, in the same process and against the same DynamoDB Local, the
 * same debits without HTTP (the use case called directly: one TransactWriteItems of the same
 * items per debit). Prints debits/s, p50/p99, the API/raw ratio, DynamoDB calls per successful
 * debit, and write units per debit computed from the stored items' sizes (DynamoDB Local does
 * not report real consumption).
 */
export async function runSingleProcess(stack: LocalStack, seconds: number, levels: number[]): Promise<void> {
  // Imported after the stack set the environment, like a Lambda cold start.
  const { db, dynamo, table } = await import('#db/client');
  const { recordUsage } = await import('#domain/ledger/usage');

  let dynamoCalls = 0;
  dynamo.middlewareStack.add(
    (next) => async (args) => {
      dynamoCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'count-calls' },
  );

  const run = randomBytes(3).toString('hex');
  const api = apiOf(stack);
  const agency = await agencyWithPool(api, stack.platformApiKey, run, stack.sesUrl);
  const subAccountId = (await subAccounts(api, agency, 1, 'client'))[0]!;
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
  const direct = async () => {
    await recordUsage({ kind: 'platform' }, subAccountId, body as never, `raw-${run}-${seq++}`);
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
    return {
      rate: latencies.length / elapsed,
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      calls: (dynamoCalls - callsBefore) / latencies.length,
    };
  }

  console.log(`\nUsage debits against one pool, ONE process, ${seconds}s per level (DynamoDB Local, in memory)\n`);
  console.log('raw = the same use case without HTTP: one TransactWriteItems per debit, serialized per pool as in the API');
  console.log('concurrency  api debits/s  p50 ms  p99 ms  calls/debit | raw debits/s  p50 ms  p99 ms  calls/debit | api/raw');
  for (const c of levels) {
    const a = await measure(viaApi, c);
    const r = await measure(direct, c);
    console.log(
      `${String(c).padStart(11)}  ${cell(a.rate, 12)} ${cell(a.p50, 7)} ${cell(a.p99, 7)} ${cell(a.calls, 12, 2)} | ${cell(r.rate, 12)} ${cell(r.p50, 7)} ${cell(r.p99, 7)} ${cell(r.calls, 12, 2)} | ${cell(a.rate / r.rate, 7, 2)}`,
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
    console.log(`${String(c).padStart(11)}  ${cell(b.rate, 12)} tx/s  p50 ${b.p50.toFixed(1)} ms  p99 ${b.p99.toFixed(1)} ms`);
  }

  // Which items a debit writes depends on how hot its balance is (direct on the balance, or
  // on a container's lane): the fidelity layer counts the units each write is billed.
  console.log('\nWrite units per debit: see `npm run bench -- --hot` (the fidelity layer bills each write).');
}
