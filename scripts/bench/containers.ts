import { randomBytes } from 'node:crypto';
import type { LocalStack } from '#local/stack';
import { cell } from './figures';
import { Fleet } from './fleet';
import { type LevelFigures, measureLevel, warm } from './load';
import { agencyWithPool, apiOf, debitOnce, makeReselling, subAccounts } from './setup';
import { usageEvent } from './usage-event';

export interface ContainersOptions {
  seconds: number;
  containers: number[];
  concurrency: number[];
  /** Share of TransactWriteItems attempts answered with an injected TransactionConflict, in the conflict scenario. */
  conflictRate: number;
  /** Scenario names to run (all when undefined). */
  only?: string[];
}

interface Scenario {
  name: string;
  title: string;
  accounts: string[];
  conflictRate: number;
  /** Its sub-accounts debit their own wallets (else the agency's pool). */
  reselling: boolean;
}

const SPREADS = [1, 10, 100];

/** Every scenario the containers mode knows, by name: pool-1 … wallet-100, pool-1-conflicts. */
export function scenarioNames(): string[] {
  return [...SPREADS.map((n) => `pool-${n}`), 'pool-1-conflicts', ...SPREADS.map((n) => `wallet-${n}`)];
}

/**
 * The containers mode: K container processes of the usage function (see container.ts) fed by
 * a load generator at several concurrencies, for a pool debit and a reselling wallet debit,
 * spread over 1, 10 and 100 sub-accounts of one agency, and once with conflicts injected.
 */
export async function runContainers(stack: LocalStack, opts: ContainersOptions): Promise<void> {
  const wanted = opts.only ?? scenarioNames();
  const unknown = wanted.filter((n) => !scenarioNames().includes(n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}; known: ${scenarioNames().join(', ')}`);
  const started = performance.now();
  const secondsSince = (t: number) => ((performance.now() - t) / 1000).toFixed(0);
  const api = apiOf(stack);
  const run = randomBytes(3).toString('hex');
  const spread = Math.max(...wanted.map((n) => Number(n.split('-')[1])));

  console.log(`\nSetting up one agency with ${spread} sub-accounts (manual first, reselling for the wallet scenarios)…`);
  const agency = await agencyWithPool(api, stack.platformApiKey, run, stack.sesUrl);
  const subs = await subAccounts(api, agency, spread, 'bench');
  await debitOnce(api, stack.platformApiKey, subs, run);

  const pool = (n: number, conflictRate = 0): Scenario => ({
    name: `pool-${n}${conflictRate ? '-conflicts' : ''}`,
    title: `Pool debits spread over ${n} manual sub-account${n > 1 ? 's' : ''}${
      conflictRate ? `, ${(conflictRate * 100).toFixed(0)}% of transaction attempts answered TransactionConflict (injected)` : ''
    }`,
    accounts: subs.slice(0, n),
    conflictRate,
    reselling: false,
  });
  const wallet = (n: number): Scenario => ({
    name: `wallet-${n}`,
    title: `Wallet debits spread over ${n} reselling sub-account${n > 1 ? 's' : ''} (one wallet each)`,
    accounts: subs.slice(0, n),
    conflictRate: 0,
    reselling: true,
  });
  // Pool scenarios first: the wallet ones switch the same sub-accounts to reselling.
  const scenarios = [...SPREADS.map((n) => pool(n)), pool(1, opts.conflictRate), ...SPREADS.map(wallet)].filter((s) =>
    wanted.includes(s.name),
  );

  const size = Math.max(...opts.containers);
  console.log(`Starting ${size} container processes (each imports functions/http/usage.ts)…`);
  const fleet = await Fleet.start(size, { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR' });
  console.log(`Set up in ${secondsSince(started)}s.`);
  let seq = 0;
  const body = { type: 'ai_response', quantity: 1, contactId: 'contact_0001', conversationId: 'conv_0001' };
  const eventFor = (accountId: string) => usageEvent(accountId, stack.platformApiKey, `c-${run}-${seq++}`, body);
  const seen: Set<string>[] = [];

  console.log(
    `\n${opts.seconds}s per level. A request goes to a random idle container; p50/p99 are time inside the container.` +
      '\ncalls = DynamoDB calls; stale = transactions cancelled by a failed condition (another container moved the' +
      '\nbalance first); conflicts = cancelled by TransactionConflict; both are billed attempts, per successful debit.' +
      '\ntx p99/max = transaction attempts of the 99th-percentile and of the worst request. 503 = try_again.',
  );
  try {
    const reselling = new Set<string>();
    for (const s of scenarios) {
      await fleet.configure(0);
      const switching = s.reselling ? s.accounts.filter((id) => !reselling.has(id)) : [];
      for (let i = 0; i < switching.length; i += 8) {
        await Promise.all(switching.slice(i, i + 8).map((id) => makeReselling(api, agency, id, 1_000_000_000, run)));
      }
      for (const id of switching) {
        reselling.add(id);
        for (const known of seen) known?.delete(id); // the containers' hints of it are stale now
      }
      await warm(fleet, s.accounts, seen, eventFor);
      await fleet.configure(s.conflictRate);
      console.log(`\n${s.title}`);
      console.log(header);
      for (const k of opts.containers) {
        fleet.use(k);
        for (const c of opts.concurrency) {
          const pick = () => s.accounts[Math.floor(Math.random() * s.accounts.length)]!;
          const f = await measureLevel(fleet, c, opts.seconds, () => eventFor(pick()));
          console.log(row(k, c, f));
        }
      }
    }
    console.log(`\nContainers mode done in ${secondsSince(started)}s.`);
  } finally {
    await fleet.configure(0);
    await fleet.stop();
  }
}

const header =
  'containers  concurrency  debits/s  p50 ms  p99 ms  calls/debit  stale/debit  conflicts/debit  tx p99/max  503s  other';

function row(k: number, c: number, f: LevelFigures): string {
  const per = (n: number) => cell(n / f.ok, 0, 2);
  const other = [...f.other].map(([what, n]) => `${n}×${what}`).join(' ') || '–';
  return [
    String(k).padStart(10),
    String(c).padStart(12),
    cell(f.rate, 9),
    cell(f.p50, 7),
    cell(f.p99, 7),
    per(f.counts.calls).padStart(12),
    per(f.counts.failedConditions).padStart(12),
    per(f.counts.conflicts).padStart(16),
    `${f.attemptsP99}/${f.attemptsMax}`.padStart(11),
    String(f.tryAgain).padStart(5),
    ` ${other}`,
  ].join(' ');
}
