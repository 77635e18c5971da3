import type { AnswerCheck } from './answers';
import type { GroupResult } from './drive';
import type { InvariantReport } from './invariants';

const pad = (s: string | number, n: number) => String(s).padStart(n);
const statusText = (statuses: Record<string, number>) =>
  Object.entries(statuses)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}×${n}`)
    .join(' ');

/** Prints the figures and the checks; returns true when the run failed. */
export function printReport(r: {
  results: GroupResult[];
  seconds: number;
  items: number;
  invariants: InvariantReport;
  answers: AnswerCheck;
  stackLines: string[];
}): boolean {
  const { results, seconds, invariants, answers } = r;
  console.log(`\n${'route group'.padEnd(15)} conns  requests    req/s   p50 ms   p99 ms   max ms  statuses`);
  const all: Record<string, number> = {};
  let total = 0;
  let errors = 0;
  let timeouts = 0;
  for (const g of results) {
    total += g.requests;
    errors += g.errors;
    timeouts += g.timeouts;
    for (const [s, n] of Object.entries(g.statuses)) all[s] = (all[s] ?? 0) + n;
    const broken = g.errors || g.timeouts ? `  errors ${g.errors}, timeouts ${g.timeouts}` : '';
    console.log(
      `${g.name.padEnd(15)} ${pad(g.connections, 5)} ${pad(g.requests, 9)} ${pad(g.perSecond.toFixed(1), 8)} ${pad(g.p50, 8)} ${pad(g.p99, 8)} ${pad(g.max, 8)}  ${statusText(g.statuses)}${broken}`,
    );
  }
  const connections = results.reduce((n, g) => n + g.connections, 0);
  console.log(
    `${'all'.padEnd(15)} ${pad(connections, 5)} ${pad(total, 9)} ${pad((total / seconds).toFixed(1), 8)}${' '.repeat(28)}  ${statusText(all)}`,
  );

  const fivexx = Object.entries(all)
    .filter(([s]) => Number(s) >= 500)
    .reduce((n, [, c]) => n + c, 0);
  console.log(`\n5xx: ${fivexx}; connection errors: ${errors}; timeouts: ${timeouts}`);

  console.log(
    `\nInvariants, from a consistent scan of the table (${r.items} items): ${invariants.balances} balances, ${invariants.entries} entries, ${invariants.usageDays} day counters, ${invariants.meters} meters`,
  );
  if (invariants.violations.length === 0) {
    console.log(
      '  every balance = Σ its entries (and its lifetime totals), nothing negative, one entry per key, counters and meters = usage entries: HOLD',
    );
  } else {
    for (const v of invariants.violations.slice(0, 20)) console.log(`  BROKEN ${v.rule}: ${v.where}: ${v.detail}`);
    if (invariants.violations.length > 20) console.log(`  … ${invariants.violations.length - 20} more`);
  }
  console.log(`Answers against the table: ${answers.moves} money-moving requests (${statusText(answers.byStatus)})`);
  if (answers.problems.length === 0) {
    console.log(
      '  every 201 wrote exactly its entries, no refusal wrote any, requests cut off at the end wrote all or nothing: HOLD',
    );
  } else {
    for (const p of answers.problems.slice(0, 20)) console.log(`  MISMATCH ${p}`);
    if (answers.problems.length > 20) console.log(`  … ${answers.problems.length - 20} more`);
  }
  if (r.stackLines.length) console.log(`\nThe local stack said:\n  ${r.stackLines.join('\n  ')}`);

  const failed = fivexx > 0 || errors > 0 || timeouts > 0 || invariants.violations.length > 0 || answers.problems.length > 0;
  console.log(failed ? '\nFAILED' : '\nOK');
  return failed;
}
