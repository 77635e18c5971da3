/** Tables of figures (plain text and markdown), the ceiling, and issue 19's criteria at 10,000/s. */
import type { Figures } from './run';

export const SLO_P99_MS = 500;

export interface Criterion {
  name: string;
  ok: (f: Figures) => boolean;
}

/** Issue 19's goals, as the model measures them. */
export const CRITERIA: Criterion[] = [
  { name: '≤0.1 failed calls/debit', ok: (f) => f.failedCallsPerDebit <= 0.1 },
  { name: '≤1.5 calls/debit', ok: (f) => f.callsPerDebit <= 1.5 },
  { name: 'no 5xx or 429', ok: (f) => f.fiveXxShare === 0 && f.lambdaThrottles === 0 },
  { name: 'hottest item ≤0.05', ok: (f) => f.hottestItem.perDebit <= 0.05 },
  { name: 'hottest pk ≤0.1', ok: (f) => f.hottestPk.perDebit <= 0.1 },
  { name: '≤5 WCU/debit', ok: (f) => f.wcuPerDebit <= 5 },
  { name: 'no false 402', ok: (f) => f.false402 === 0 && f.falseLimit === 0 },
];

/** Highest offered rate with ≥ 99% goodput and p99 within the SLO (a string: '<1,000' when none). */
export function ceiling(rows: Figures[]): string {
  const ok = rows.filter((f) => f.goodputShare >= 0.99 && f.p99 <= SLO_P99_MS).map((f) => f.rate);
  return ok.length ? Math.max(...ok).toLocaleString('en-US') : `<${Math.min(...rows.map((f) => f.rate)).toLocaleString('en-US')}`;
}

const n = (x: number, digits = 2) => (Number.isFinite(x) ? x.toFixed(digits) : '-');
const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '-');
const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '-');

export const COLUMNS: [string, (f: Figures) => string][] = [
  ['design', (f) => f.design],
  ['λ/s', (f) => int(f.rate)],
  ['201/s', (f) => int(f.goodputPerSecond)],
  ['good', (f) => pct(f.goodputShare)],
  ['att/d', (f) => n(f.attemptsPerDebit)],
  ['WCU/d', (f) => n(f.wcuPerDebit, 1)],
  ['calls/d', (f) => n(f.callsPerDebit)],
  ['failed/d', (f) => n(f.failedCallsPerDebit)],
  ['bg/d', (f) => n(f.backgroundCallsPerDebit)],
  ['hot item/d', (f) => `${n(f.hottestItem.perDebit, 3)} ${f.hottestItem.key}`],
  ['hot pk/d', (f) => `${n(f.hottestPk.perDebit, 3)} ${f.hottestPk.key}`],
  ['p50 ms', (f) => int(f.p50)],
  ['p99 ms', (f) => int(f.p99)],
  ['thr/s', (f) => int(f.dbThrottlesPerSecond)],
  ['429', (f) => int(f.lambdaThrottles)],
  ['5xx', (f) => pct(f.fiveXxShare)],
  ['402 t/f', (f) => `${f.true402 + f.trueLimit}/${f.false402 + f.falseLimit}`],
  ['stranded', (f) => int(f.strandedMax)],
];

export function textTable(rows: Figures[], columns = COLUMNS): string {
  const cells = [columns.map(([h]) => h), ...rows.map((f) => columns.map(([, get]) => get(f)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

export function markdownTable(rows: Figures[], columns = COLUMNS): string {
  const head = `| ${columns.map(([h]) => h).join(' | ')} |`;
  const rule = `|${columns.map(() => '---').join('|')}|`;
  return [head, rule, ...rows.map((f) => `| ${columns.map(([, get]) => get(f).replace(/\|/g, '\\|')).join(' | ')} |`)].join('\n');
}

/** Which criteria a row meets: '✓' each, or the names it misses. */
export function verdict(f: Figures): { met: boolean; missed: string[] } {
  const missed = CRITERIA.filter((c) => !c.ok(f)).map((c) => c.name);
  return { met: missed.length === 0, missed };
}
