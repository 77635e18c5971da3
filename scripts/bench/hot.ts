import { randomBytes } from 'node:crypto';
import { getBalance, poolKey } from '#db/items/balance';
import type { FidelityStats } from '#local/dynamo-fidelity/meter';
import type { LocalStack, StreamPollersStatus } from '#local/stack';
import { cell } from './figures';
import { Fleet } from './fleet';
import { type LevelFigures, measureLevel, warm } from './load';
import { agencyWithPool, apiOf, debitOnce, makeReselling, subAccounts } from './setup';
import { usageEvent } from './usage-event';

/**
 * `npm run bench -- --hot`: ONE busy balance debited from many Lambda containers, through the
 * DynamoDB fidelity proxy (AWS's transaction conflicts, latency and limits; its counts of
 * what AWS would bill), so that a ledger design can be judged by what one hot pool, wallet or
 * limited sub-account costs and how fast it goes. Run it again after the ledger changes.
 */
export interface HotOptions {
  seconds: number;
  /** Container processes and concurrent requests, per level. */
  levels: Array<{ containers: number; concurrency: number }>;
  /** Scenario names to run (all when undefined). */
  only?: string[];
  /** Manual sub-accounts sharing the pool in hot-pool. */
  spread: number;
}

interface Scenario {
  name: string;
  title: string;
  accounts: string[];
  /** Picks the account of the next debit (uniform over `accounts` when absent). */
  pick?: () => string;
}

export const hotScenarioNames = ['hot-pool', 'hot-limit', 'hot-wallet', 'hot-mixed'];

/**
 * An agency as it runs: `n` sub-accounts debited Zipf(1) by rank (the rank-r one r times less
 * often than the busiest), every fifth limited and every tenth reselling, as the simulation's
 * load is (scripts/sim/world.ts). Each limited sub-account and each wallet is a balance of its
 * own, so a container meets several hot balances at once and may hold a lane on each.
 */
const MIXED_SIZE = 50;
const mixedRole = (rank: number) => (rank % 10 === 3 ? 'reselling' : rank % 5 === 1 ? 'limited' : 'manual');

/** Draws ranks 0…n−1 with weights 1/(rank+1). */
function zipfPicker<T>(items: T[]): () => T {
  const cumulative: number[] = [];
  let sum = 0;
  for (let r = 0; r < items.length; r++) cumulative.push((sum += 1 / (r + 1)));
  return () => {
    const x = Math.random() * sum;
    let lo = 0;
    let hi = items.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return items[lo]!;
  };
}

/** `16x32,64x32,64x64,64x128` → levels. */
export function parseLevels(text: string): HotOptions['levels'] {
  return text.split(',').map((level) => {
    const [containers, concurrency] = level.trim().split('x').map(Number);
    if (!Number.isInteger(containers) || !Number.isInteger(concurrency) || !containers || !concurrency)
      throw new Error(`BENCH_HOT_LEVELS: <containers>x<concurrency>,… (not "${level}")`);
    return { containers, concurrency };
  });
}

export async function runHot(stack: LocalStack, opts: HotOptions): Promise<void> {
  const fidelity = stack.fidelity;
  if (!fidelity) throw new Error('the hot bench runs through the fidelity proxy (dynamoFidelity)');
  const wanted = opts.only ?? hotScenarioNames;
  const unknown = wanted.filter((n) => !hotScenarioNames.includes(n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${hotScenarioNames.join(', ')}`);
  const started = performance.now();
  const api = apiOf(stack);
  const run = randomBytes(3).toString('hex');
  const settings = fidelity.configure({});

  console.log(`\nSetting up one agency: ${opts.spread} manual sub-accounts, one with a monthly limit, one reselling…`);
  // Set-up and warm-up are not measured: without the latency and the conflicts they are quicker,
  // and the set-up (sub-accounts created 8 at a time, each counted on its agency) cannot fail.
  const quiet = { latency: false, conflicts: false };
  const measured = { latency: settings.latency, conflicts: settings.conflicts };
  fidelity.configure(quiet);
  const agency = await agencyWithPool(api, stack.platformApiKey, run, stack.sesUrl);
  const subs = await subAccounts(api, agency, opts.spread + 2, 'hot');
  const [limited, reseller] = subs.slice(opts.spread) as [string, string];
  const auth = { authorization: `Bearer ${agency.token}` };
  await api('PATCH', `/v1/sub-accounts/${limited}`, { monthlyCreditLimit: 1_000_000_000 }, auth);
  await makeReselling(api, agency, reseller, 100_000_000, run); // the pool keeps 900 million for the others
  const mixed = wanted.includes('hot-mixed') ? await subAccounts(api, agency, MIXED_SIZE, 'mixed') : [];
  for (const [rank, id] of mixed.entries()) {
    if (mixedRole(rank) === 'limited') await api('PATCH', `/v1/sub-accounts/${id}`, { monthlyCreditLimit: 100_000_000 }, auth);
    if (mixedRole(rank) === 'reselling') await makeReselling(api, agency, id, 10_000_000, run);
  }
  await debitOnce(api, stack.platformApiKey, [...subs, ...mixed], run);
  const scenarios: Scenario[] = [
    {
      name: 'hot-pool',
      title: `(a) One agency pool, debited by ${opts.spread} manual sub-accounts`,
      accounts: subs.slice(0, opts.spread),
    },
    { name: 'hot-limit', title: '(b) ONE manual sub-account with a monthly limit (pool + its meter)', accounts: [limited] },
    { name: 'hot-wallet', title: '(c) ONE reselling sub-account (its wallet)', accounts: [reseller] },
    {
      name: 'hot-mixed',
      title: `(d) One agency as it runs: ${MIXED_SIZE} sub-accounts, Zipf(1) by rank, every fifth limited, every tenth reselling`,
      accounts: mixed,
      pick: zipfPicker(mixed),
    },
  ].filter((s) => wanted.includes(s.name));

  const size = Math.max(...opts.levels.map((l) => l.containers));
  console.log(`Starting ${size} container processes of the usage function…`);
  const fleet = await Fleet.start(size, { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' });
  let seq = 0;
  const body = { type: 'ai_response', quantity: 1, contactId: 'contact_0001', conversationId: 'conv_0001' };
  const eventFor = (accountId: string) => usageEvent(accountId, stack.platformApiKey, `h-${run}-${seq++}`, body);
  const seen: Set<string>[] = [];
  console.log(`Set up in ${((performance.now() - started) / 1000).toFixed(0)}s.`);
  console.log(
    `\nFidelity: items held for φ=${settings.phi} of each call's latency (${settings.latency ? `median ${settings.model.transactionMs} ms + ${settings.model.transactionPerItemMs}/item a transaction, ${settings.model.singleMs} ms other calls` : 'none'}), throttling ${settings.throttle ? `at ${settings.unitsPerSecond} WU/s per item and per key` : 'off'}.` +
      `\n${opts.seconds}s per level. All figures but debits/s, p50/p99 (time in the container) and 5xx are per successful debit,` +
      '\ncounted by the fidelity proxy, background writes (stream and queue workers) included:' +
      '\n  billed = write calls AWS bills (all but throttled ones); failed = failed write calls, each once; of them,' +
      '\n  cancel/confl/cond (overlapping) = cancelled transactions, transaction conflicts (cancelled or' +
      '\n  TransactionConflictException), failed conditions;' +
      '\n  writes = write calls; item/pk/gsi1 = committed writes on the hottest item, table partition key, gsi1 key;' +
      '\n  WU = billed write units (table and index).',
  );
  try {
    for (const s of scenarios) {
      fidelity.configure(quiet);
      await warm(fleet, s.accounts, seen, eventFor);
      fidelity.configure(measured);
      console.log(`\n${s.title}`);
      console.log(header);
      let last: FidelityStats | undefined;
      for (const level of opts.levels) {
        fleet.use(level.containers);
        await backgroundIdle(stack);
        await fidelity.reset();
        const pick = s.pick ?? (() => s.accounts[Math.floor(Math.random() * s.accounts.length)]!);
        const f = await measureLevel(fleet, level.concurrency, opts.seconds, () => eventFor(pick()));
        await backgroundIdle(stack);
        last = await fidelity.stats(2);
        console.log(row(level.containers, level.concurrency, f, last));
        console.log(callsByKind(last, f.ok));
        console.log(sharedKeys(last, f.ok));
        const failed = failedShapes(last);
        if (failed) console.log(failed);
        console.log(await poolLanes(agency.agencyId));
      }
      if (last) console.log(hottest(last));
    }
    console.log(`\nHot bench done in ${((performance.now() - started) / 1000).toFixed(0)}s.`);
  } finally {
    fidelity.configure(measured);
    await fleet.stop();
  }
}

const header =
  '  K  conc  debits/s  p50 ms  p99 ms  billed  failed  cancel  confl   cond  writes   item     pk   gsi1     WU   5xx (share)';

function row(k: number, c: number, f: LevelFigures, s: FidelityStats): string {
  const t = s.totals;
  const per = (n: number, w = 7) => cell(n / f.ok, w, 2);
  const top = (list: { writes: number }[], w = 7) => per(list[0]?.writes ?? 0, w);
  return [
    String(k).padStart(3),
    String(c).padStart(5),
    cell(f.rate, 9),
    cell(f.p50, 7),
    cell(f.p99, 7),
    per(t.billedWriteAttempts),
    per(failedCalls(s)),
    per(t.cancelled),
    per(t.conflicts, 6),
    per(t.conditionFailed, 6),
    per(t.writeCalls),
    top(s.hottest.items),
    top(s.hottest.tablePartitions, 6),
    top(s.hottest.indexPartitions),
    per(t.writeUnits, 6),
    ` ${f.serverErrors} (${((100 * f.serverErrors) / Math.max(1, f.requests)).toFixed(1)}%)${t.throttled ? ` ${t.throttled} throttled` : ''}`,
  ].join(' ');
}

/** Write calls per debit by the kinds of item they wrote (the request path's `ACCOUNT + LEDGER`…, the rollups' `ROLLUP`). */
function callsByKind(s: FidelityStats, ok: number): string {
  const list = Object.entries(s.totals.writeCallsByKind ?? {}).sort((a, b) => b[1] - a[1]);
  return `       writes by kind: ${list
    .slice(0, 5)
    .map(([kind, n]) => `${(n / Math.max(1, ok)).toFixed(2)} [${kind}]`)
    .join('; ')}`;
}

/**
 * The keys no tenant owns that took the most writes (per debit): every agency's writes meet
 * there, so at platform scale they add up on one partition whatever this one agency does.
 */
const sharedKeys = (s: FidelityStats, ok: number): string =>
  `       keys no tenant owns: ${
    s.shared.map((h) => `${(h.writes / Math.max(1, ok)).toFixed(3)} [${h.key}]`).join('; ') || 'none written'
  }`;

/** Failed write calls, each counted once (a transaction cancelled for a conflict is in both `cancel` and `confl`). */
const failedCalls = (s: FidelityStats) => Object.values(s.totals.failedByShape ?? {}).reduce((sum, n) => sum + n, 0);

/** Which writes the failed calls were (the three most frequent shapes), when any failed. */
function failedShapes(s: FidelityStats): string | undefined {
  const list = Object.entries(s.totals.failedByShape ?? {}).sort((a, b) => b[1] - a[1]);
  if (!list.length) return undefined;
  return `       failed: ${list
    .slice(0, 3)
    .map(([shape, n]) => `${n}× [${shape}]`)
    .join('; ')}`;
}

/** The pool's lanes after the level: how many are open of how many slots numbered (at most MAX_SLOTS). */
async function poolLanes(agencyId: string): Promise<string> {
  const pool = await getBalance(poolKey(agencyId));
  return `       pool lanes: ${pool?.lanesOpen ?? 0} open of ${pool?.laneSlots ?? 0} slots`;
}

const hottest = (s: FidelityStats) =>
  `  hottest at the last level: item ${s.hottest.items[0]?.key ?? '–'}; key ${s.hottest.tablePartitions[0]?.key ?? '–'}; gsi1 ${s.hottest.indexPartitions[0]?.key ?? '–'}`;

/** Waits until every stream worker has read everything written so far (their writes count in the level that caused them). */
export async function backgroundIdle(stack: LocalStack, timeoutMs = 30_000): Promise<void> {
  if (!stack.statusUrl) return;
  const status = async () => (await (await fetch(`${stack.statusUrl}/stream-pollers`)).json()) as StreamPollersStatus;
  const asked = await status();
  const caughtUp = (now: StreamPollersStatus) =>
    Object.entries(now).every(([name, s]) => s.caughtUpThrough > asked[name as keyof StreamPollersStatus].passes);
  const deadline = Date.now() + timeoutMs;
  while (!caughtUp(await status())) {
    if (Date.now() > deadline) throw new Error(`the stream pollers did not catch up within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
