/**
 * npm run sim — issue 19 part 2: the designs compared by a seeded discrete-event model at AWS
 * scale (scripts/sim/README in RESULTS.md). Prints the calibration against the local stack's
 * figures, the table design × load (one agency pool, sub-accounts Zipf(1) over 200), the same at
 * 10,000/s over 1,000 sub-accounts, on one wallet, on one limited sub-account and with the pool
 * running near empty, each design's ceiling and issue 19's criteria at 10,000/s.
 *
 *   npm run sim -- [--seed N] [--measure MS] [--cap N] [--markdown] [--no-calibration] [--designs 0,D,D+] [--rates 1000,10000]
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { CALIBRATION_GRID, calibrate, LOCAL_TARGET } from './calibrate';
import { DESIGN_NAMES, type DesignName, designFor } from './designs/index';
import { CRITERIA, ceiling, markdownTable, SLO_P99_MS, textTable, verdict } from './report';
import { config, defaultDb, type Figures, type RunConfig, runCell, type Shape } from './run';

interface Spec {
  name: DesignName;
  over: Partial<RunConfig>;
}

// A worker runs the cells it is given and posts their figures back (cells are independent and
// seeded, so splitting them over threads changes nothing in the figures).
if (!isMainThread) {
  const { specs, seed, measureMs, cap } = workerData as { specs: Spec[]; seed: number; measureMs: number; cap: number };
  parentPort!.postMessage(specs.map((s) => runSpec(s, seed, measureMs, cap)));
}

function runSpec(spec: Spec, seed: number, measureMs: number, cap: number): Figures {
  const base = { rate: 10_000, shape: 'pool' as Shape, subs: 200, zipfS: 1, ...spec.over };
  const { design, options } = designFor(spec.name, base);
  return runCell(config(design, { ...base, seed, measureMs, options, db: defaultDb, cap }));
}

/** Runs the cells over the machine's cores (worker threads), in order. */
async function runAll(specs: Spec[], seed: number, measureMs: number, cap: number, threads: number): Promise<Figures[]> {
  if (threads <= 1) return specs.map((s) => runSpec(s, seed, measureMs, cap));
  const parts = Array.from({ length: threads }, (_, t) =>
    specs.map((s, i) => [s, i] as const).filter(([, i]) => i % threads === t),
  );
  const results = await Promise.all(
    parts.map(
      (part) =>
        new Promise<[Figures, number][]>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), {
            workerData: { specs: part.map(([s]) => s), seed, measureMs, cap },
            execArgv: process.execArgv,
          });
          w.once('message', (figures: Figures[]) => resolve(figures.map((f, j) => [f, part[j]![1]])));
          w.once('error', reject);
        }),
    ),
  );
  return results
    .flat()
    .sort((a, b) => a[1] - b[1])
    .map(([f]) => f);
}

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    measure: { type: 'string', default: '3000' },
    markdown: { type: 'boolean', default: false },
    'no-calibration': { type: 'boolean', default: false },
    'calibration-only': { type: 'boolean', default: false },
    designs: { type: 'string', default: DESIGN_NAMES.join(',') },
    rates: { type: 'string', default: '1000,5000,10000,20000' },
    cap: { type: 'string', default: '1000' },
    threads: { type: 'string', default: String(Math.min(4, availableParallelism())) },
  },
});
if (isMainThread) await main();

async function main() {
  const seed = Number(values.seed);
  const measureMs = Number(values.measure);
  const names = values.designs!.split(',') as DesignName[];
  const rates = values.rates!.split(',').map(Number);
  const table = values.markdown ? markdownTable : textTable;
  const started = performance.now();
  const cpuStarted = process.cpuUsage();

  const say = (s = '') => console.log(s);

  if (!values['no-calibration']) {
    const { best, bestAwsRule } = calibrate(10);
    const show = (f: typeof best) =>
      `M = ${f.medianMs} ms, φ = ${f.holdFraction} → ${(f.fiveXxShare * 100).toFixed(0)}% 503, ` +
      `${f.attemptsPerDebit.toFixed(1)} attempts per debit, ${f.debitsPerSecond.toFixed(1)} debits/s`;
    say('## Calibration against the local stack (issue 19)');
    say(
      `Target: today's code, 16 containers, 32 clients, one pool, conflict rule in front of DynamoDB Local: ` +
        `${(LOCAL_TARGET.fiveXxShare * 100).toFixed(0)}% 503, ${LOCAL_TARGET.attemptsPerDebit.join('–')} attempts per successful debit, ` +
        `${LOCAL_TARGET.debitsPerSecond.join('–')} debits/s.`,
    );
    say(
      `Grid: call latency M ∈ {${CALIBRATION_GRID.medianMs.join(', ')}} ms, hold fraction φ ∈ {${CALIBRATION_GRID.holdFraction.join(', ')}}, ` +
        `two rules. Best fit ${best.inFlightHolds ? 'with every request in flight holding its items (the local layer)' : "with AWS's rule"}: ${show(best)}.`,
    );
    say(`Best fit with AWS's rule (only a prepared transaction holds): ${show(bestAwsRule)}.`);
    say(
      `At AWS scale the model keeps φ = ${defaultDb.holdFraction} with AWS's rule, latencies from the published tests, ` +
        'and bills a cancelled attempt its prepare (1 WCU/KB per item).',
    );
    say();
  }
  if (values['calibration-only']) return;

  const extras: [string, Partial<RunConfig>][] = [
    ['pool, 1,000 sub-accounts', { subs: 1000 }],
    ['one reselling wallet', { shape: 'wallet' }],
    ['one manual sub-account with a monthly limit', { shape: 'limited' }],
    ['pool near empty (top-ups bring 90% of the spend)', { lowBalance: true }],
  ];
  const specs: Spec[] = [
    ...names.flatMap((name) => rates.map((rate) => ({ name, over: { rate } }))),
    ...extras.flatMap(([, over]) => names.map((name) => ({ name, over: { rate: 10_000, ...over } }))),
  ];
  const all = await runAll(specs, seed, measureMs, Number(values.cap), Number(values.threads));
  const main = all.slice(0, names.length * rates.length);
  say(`## One agency pool, sub-accounts Zipf(1) over 200 (seed ${seed}, ${measureMs / 1000} s measured after a 1 s ramp)`);
  say(table(main));
  say();

  say(`Ceiling (highest λ with ≥ 99% of deserved debits answered 201 and p99 ≤ ${SLO_P99_MS} ms):`);
  for (const name of names) say(`  ${name.padEnd(3)} ${ceiling(main.filter((f) => f.design === name))}`);
  say();

  const at10k = all.slice(main.length);
  for (const [k, [title]] of extras.entries()) {
    const rows = at10k.slice(k * names.length, (k + 1) * names.length);
    say(`## 10,000/s: ${title}`);
    say(table(rows));
    say();
  }

  say("## Issue 19's criteria at 10,000/s (pool over 200, pool over 1,000, one wallet, one limited sub-account)");
  say(`Criteria: ${CRITERIA.map((c) => c.name).join('; ')}.`);
  for (const name of names) {
    const rows = [
      main.find((f) => f.design === name && f.rate === 10_000),
      ...at10k.filter((f) => f.design === name && !f.lowBalance),
    ];
    const misses = new Set<string>();
    for (const f of rows) if (f) for (const m of verdict(f).missed) misses.add(m);
    say(`  ${name.padEnd(3)} ${misses.size ? `misses: ${[...misses].join('; ')}` : 'meets every criterion'}`);
  }
  const imbalance = [...main, ...at10k].reduce((a, f) => a + f.imbalance, 0);
  const stale = [...main, ...at10k].reduce((a, f) => a + f.staleModeDebits, 0);
  say();
  say(
    `Credits created or lost, all runs: ${imbalance}. Debits on a switched-away balance after the switch was answered: ${stale}.`,
  );
  const cpu = process.cpuUsage(cpuStarted);
  say(
    `Ran in ${((performance.now() - started) / 1000).toFixed(1)} s (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU), ` +
      `${[...main, ...at10k].reduce((a, f) => a + f.events, 0).toLocaleString('en-US')} events.`,
  );
}
