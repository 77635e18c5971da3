/**
 * `npm run bench`: the debit path's throughput and DynamoDB cost, against a local stack started
 * here (in memory).
 *
 *   npm run bench                    single process (the gateway runs the handler: one container)
 *   npm run bench -- --containers    K container processes, one request each at a time (Lambda-like)
 *   npm run bench -- --all           both
 *   npm run bench -- --recharge      auto-recharge only: threshold crossing → webhook POST, deliveries/s
 *   npm run bench -- --events        event webhooks only: action → first POST of its event, p50/p99
 *   npm run bench -- --hot           ONE busy pool, limited sub-account or wallet, many containers,
 *                                    through the DynamoDB fidelity proxy (AWS's conflicts and limits)
 *   npm run bench -- --batch         POST /v1/usage/batch: write calls and units per event, through
 *                                    the fidelity proxy (BENCH_BATCHES, default 5, of BENCH_BATCH_SIZE, 1000)
 *   npm run bench -- --scale         the console's reads for agencies of 10, 100 and 1,000 sub-accounts
 *                                    with a year of usage: requests, items and read units, p50 (scale.ts)
 *
 * Environment: BENCH_SECONDS per level (default 6 single-process, 3 containers),
 * BENCH_CONTAINERS (1,4,8,16), BENCH_CONCURRENCY (1,8,32 for both modes),
 * BENCH_CONFLICT_RATE (0.25: share of transaction attempts answered TransactionConflict in the
 * pool-1-conflicts scenario), BENCH_SCENARIOS (containers mode; default all:
 * pool-1,pool-10,pool-100,pool-1-conflicts,wallet-1,wallet-10,wallet-100; hot mode: hot-pool,
 * hot-limit,hot-wallet,hot-mixed), DYNAMODB_FIDELITY (any mode through the fidelity proxy; hot mode: its
 * settings, default on, e.g. `phi=0.3,throttle=on`), BENCH_HOT_LEVELS (16x32,64x32,64x64,64x128:
 * containers x concurrent requests), BENCH_SECONDS (hot mode: 4).
 */

import { cpus, loadavg } from 'node:os';
import { parseFidelityEnv } from '#local/dynamo-fidelity/options';
import { checkJava } from '#local/dynamodb';
import { startLocalStack } from '#local/stack';
import { runBatch } from './bench/batch';
import { runContainers, scenarioNames } from './bench/containers';
import { benchEvents } from './bench/events';
import { intList } from './bench/figures';
import { hotScenarioNames, parseLevels, runHot } from './bench/hot';
import { benchRecharge } from './bench/recharge';
import { benchDelivery } from './bench/reselling-delivery';
import { runScale } from './bench/scale';
import { runSingleProcess } from './bench/single-process';

const args = process.argv.slice(2);
const known = ['--containers', '--all', '--recharge', '--events', '--hot', '--batch', '--scale'];
if (args.some((a) => !known.includes(a))) {
  console.error(
    `usage: npm run bench [-- --containers | --all | --recharge | --events | --hot | --batch | --scale]; scenarios: ${[...scenarioNames(), ...hotScenarioNames].join(',')}`,
  );
  process.exit(2);
}
const hot = args.includes('--hot');
const batch = args.includes('--batch');
const scale = args.includes('--scale');
const recharge = args.includes('--recharge') || args.includes('--all');
const eventHooks = args.includes('--events') || args.includes('--all');
const containers = args.includes('--containers') || args.includes('--all');
const single = (!args.includes('--containers') && !recharge && !eventHooks && !hot && !batch && !scale) || args.includes('--all');
const fidelity = parseFidelityEnv(process.env.DYNAMODB_FIDELITY) ?? (hot || batch ? {} : undefined);
// The hot bench creates a hundred sub-accounts, each with a generated password: hashed at the
// tests' cost (2^14), not the deployed one, so the set-up takes seconds, not minutes. Debits never hash.
if (hot || batch || scale) process.env.PASSWORD_SCRYPT_LOG2N ??= '14';

const problem = checkJava();
if (problem) {
  console.error(problem);
  process.exit(1);
}
process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
const seconds = (fallback: number) => Number(process.env.BENCH_SECONDS ?? fallback);
const concurrency = intList(process.env.BENCH_CONCURRENCY, [1, 8, 32]);
const conflictRate = Number(process.env.BENCH_CONFLICT_RATE ?? 0.25);
if (!(conflictRate >= 0 && conflictRate <= 1)) throw new Error('BENCH_CONFLICT_RATE: a share between 0 and 1');

// Other work on the machine moves debits/s and latencies (not the attempts per debit): say how busy it was.
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
console.log(`${cpus().length} cores, load average ${load()} (1, 5, 15 min) before the run`);
// A generous daily cap: the recharge bench crosses one sub-account's threshold dozens of times.
const stack = await startLocalStack({
  queueVisibilitySeconds: 5,
  webhooks: { dailyCap: 1000 },
  dynamoFidelity: fidelity,
  pollerStatus: true,
  // The scale bench seeds a year of usage, each day's at its own date.
  testClock: scale,
});
try {
  if (single) {
    await runSingleProcess(stack, seconds(6), concurrency);
    // Reselling: Stripe's checkout.session.completed → credits readable in the wallet.
    const delivery = await benchDelivery(stack.info);
    console.log(
      `\nStripe sandbox checkout.session.completed → credits readable in the wallet (${delivery.purchases} purchases, one at a time):`,
    );
    console.log(
      `  p50 ${delivery.p50.toFixed(1)} ms  p99 ${delivery.p99.toFixed(1)} ms  max ${delivery.max.toFixed(1)} ms  (from the "Pay" to the first wallet GET that shows the credits)`,
    );
  }
  if (recharge) {
    const r = await benchRecharge(stack.info);
    console.log(
      '\nAuto-recharge (local pollers: stream read every 100 ms, queues polled every 100 ms when empty, sender 4 batches of 10 at once):',
    );
    console.log(
      `  threshold crossing → first webhook POST received on 127.0.0.1, ${r.crossings} crossings one at a time: p50 ${r.p50.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  max ${r.max.toFixed(1)} ms  (from the debit's 201)`,
    );
    console.log(
      `  sender throughput: ${r.deliveries} webhook.test deliveries to a loopback receiver answering 200 at once: ${r.deliveriesPerSecond.toFixed(1)} deliveries/s between the first and the last POST received; ${r.endToEndPerSecond.toFixed(1)}/s counting from the first event queued (through the API, 16 at a time, all queued in ${r.queueSeconds.toFixed(1)} s)`,
    );
  }
  if (eventHooks) {
    const e = await benchEvents(stack.info);
    const line = (f: typeof e.sequential) =>
      `p50 ${f.p50.toFixed(1)} ms  p99 ${f.p99.toFixed(1)} ms  max ${f.max.toFixed(1)} ms  (${f.n} events)`;
    console.log(
      "\nEvent webhooks (the same local pollers; sub_account.updated, from the PATCH's 200 to the POST received on 127.0.0.1):",
    );
    console.log(`  one at a time: ${line(e.sequential)}`);
    console.log(`  ${e.burst.n} sub-accounts renamed at once: ${line(e.burst)}`);
  }
  if (hot) {
    await runHot(stack, {
      seconds: seconds(4),
      levels: parseLevels(process.env.BENCH_HOT_LEVELS ?? '16x32,64x32,64x64,64x128'),
      only: process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()),
      spread: 100,
    });
  }
  if (batch) {
    await runBatch(stack, {
      batches: Number(process.env.BENCH_BATCHES ?? 5),
      size: Number(process.env.BENCH_BATCH_SIZE ?? 1000),
    });
  }
  if (scale) {
    await runScale(stack, {
      sizes: intList(process.env.BENCH_SCALE_SIZES, [10, 100, 1000]),
      daily: intList(process.env.BENCH_SCALE_DAILY, [20, 100, 300]),
      repeat: Number(process.env.BENCH_SCALE_REPEAT ?? 5),
    });
  }
  if (containers) {
    await runContainers(stack, {
      seconds: seconds(3),
      containers: intList(process.env.BENCH_CONTAINERS, [1, 4, 8, 16]),
      concurrency,
      conflictRate,
      only: process.env.BENCH_SCENARIOS?.split(',').map((s) => s.trim()),
    });
  }
} finally {
  await stack.stop();
}
console.log(`\nload average ${load()} after the run`);
process.exit(0);
