import type { BalanceRef } from './commands';
import { type Attempt, bounds, type Flow, finalOf, type History, type MoneyRequest, type Standing, span } from './history';

/**
 * The checks a run's answers must pass on their own (the table's are in table.ts): each judged
 * against every state the model allows at some point while it was in flight, so they hold
 * whatever order the system chose, and fail only when no order explains an answer.
 *
 * - one outcome per request: never a 500, never stuck at 503 (after the client's retries),
 *   and every answer a key got (its first, each retry, each replay) the same, word for word;
 * - a debit drew on a balance its sub-account's standing allowed at some point during it; a
 *   closed account was refused, and only a closed one;
 * - a 201 never took more than the balance could have held (no overdraft); a 402
 *   `insufficient_credits` only when the balance could have held less than asked at some
 *   point (credits in lanes of other containers count as there); `credit_limit_reached` only
 *   when the month's pool use counted by the limit could have left too little; a 201 under a
 *   limit never past it;
 * - balances read (the API's, the `balance` of a move's answer, an entry's `balanceAfter`)
 *   could have been the balance at some point during the read.
 */
export function checkAnswers(h: History, flows: Flow[], problems: string[], known: string[]): void {
  const keys = new Map<string, MoneyRequest[]>();
  for (const m of h.money) keys.set(m.key, [...(keys.get(m.key) ?? []), m]);
  for (const [key, requests] of keys) {
    const first = requests[0] as MoneyRequest;
    const answers = requests.flatMap((r) => r.attempts).filter((a) => a.status !== 503);
    for (const r of requests) outcomeOk(r, problems);
    const texts = new Set(answers.map((a) => `${a.status} ${a.text}`));
    if (texts.size > 1) {
      const differ = `key ${key} (${first.label}): its answers differ:\n  ${[...texts].join('\n  ')}`;
      (sameButBalance(answers) ? known : problems).push(differ);
    }
    const answer = answers[0];
    if (answer) judge(h, flows, first, answer, h.keySpan(key), problems);
  }
  for (const read of h.reads) checkRead(h, flows, read.balance, read.label, read.attempts, problems);
}

/**
 * Known, not fixed here (reported with issue 19): a top-up's or grant's answer made while lanes
 * held part of the balance has no `balanceAfter` in its entry, and its `balance` is read after
 * the commit, again on every replay (top-ups.ts `balanceNow`). Such replays are counted apart;
 * any other difference (and this one, once the entry carries the figure) is a problem.
 */
function sameButBalance(answers: Attempt[]): boolean {
  const moved = answers.every((a) => a.status === 201 && a.body.entry?.balanceAfter === null && 'balance' in a.body);
  const rest = new Set(answers.map((a) => JSON.stringify({ ...a.body, balance: undefined })));
  return moved && rest.size === 1;
}

const ALLOWED: Record<MoneyRequest['op'], string[]> = {
  usage: ['201', '402 insufficient_credits', '402 credit_limit_reached', '409 account_closed'],
  topUp: ['201'],
  grant: ['201', '402 insufficient_credits', '409 wrong_credit_mode', '409 account_closed'],
};
const outcome = (a: Attempt) => (a.status === 201 ? '201' : `${a.status} ${a.body?.code}`);

function outcomeOk(r: MoneyRequest, problems: string[]): void {
  for (const a of r.attempts) {
    if (a.status !== 503 && !ALLOWED[r.op].includes(outcome(a))) problems.push(`${r.label}: answered ${outcome(a)}: ${a.text}`);
  }
  if (finalOf(r.attempts)?.status === 503)
    problems.push(
      `${r.label}: still 503 after ${r.attempts.length} tries (${r.attempts.map((a) => `${a.via}:${a.body?.code}`).join(' ')})`,
    );
}

const AGENCY: Standing = { mode: 'manual', limit: null, closed: false };
const drawsOn = (s: Standing, sub: number): BalanceRef => (s.mode === 'reselling' ? sub : 'pool');

/** Pool debits of a sub-account the monthly meter may have counted (at most: all of them) and surely counted. */
function poolUse(h: History, flows: Flow[], sub: number, start: number, end: number, except: string) {
  let most = 0;
  let least = 0;
  for (const f of flows) {
    const m = h.withKey(f.key)[0] as MoneyRequest;
    if (f.key === except || m.op !== 'usage' || m.who !== sub || f.balance !== 'pool') continue;
    if (f.start < end) most -= f.delta;
    const limited = h.standingsDuring(sub, f.start, f.end).every((s) => s.limit !== null && s.mode === 'manual');
    if (f.end < start && limited) least -= f.delta;
  }
  return { most, least };
}

function judge(
  h: History,
  flows: Flow[],
  m: MoneyRequest,
  a: Attempt,
  when: { start: number; end: number },
  problems: string[],
): void {
  const { start, end } = when;
  const sub = m.who === 'agency' ? undefined : m.who;
  const possible = sub === undefined ? [AGENCY] : h.standingsDuring(sub, start, end);
  const open = possible.filter((s) => !s.closed);
  const say = (what: string) => problems.push(`${m.label} (${m.op} ${m.credits}, ${outcome(a)} via ${a.via}): ${what}`);
  const room = (b: BalanceRef) => bounds(flows, b, start, end, m.key);
  const shown = (b: BalanceRef, value: unknown, moved: number, what: string) => {
    if (value === null) return;
    const r = room(b);
    if (typeof value !== 'number' || value < Math.max(0, r.low + moved) || value > r.high + moved)
      say(`${what} ${value} could not have been the balance (between ${r.low + moved} and ${r.high + moved})`);
  };
  if (a.status === 409 && a.body.code === 'account_closed') {
    if (!possible.some((s) => s.closed)) say('refused as closed, but the account was open throughout');
    return;
  }
  if (m.op === 'topUp') {
    shown('pool', a.body.balance, m.credits, 'the answer’s balance');
    return;
  }
  if (m.op === 'grant') {
    const target = sub as number;
    if (a.status === 201) {
      if (!open.some((s) => s.mode === 'reselling')) say('granted to a sub-account never in reselling mode during it');
      if (room('pool').high < m.credits) say(`the pool could have held at most ${room('pool').high}: overdrawn`);
      shown(target, a.body.balance, m.credits, 'the answer’s balance');
    }
    if (a.body?.code === 'wrong_credit_mode' && !open.some((s) => s.mode === 'manual'))
      say('refused wrong_credit_mode, but the sub-account was in reselling mode throughout');
    if (a.body?.code === 'insufficient_credits' && room('pool').low >= m.credits)
      say(`402, but the pool held at least ${room('pool').low} throughout`);
    return;
  }
  // Usage.
  if (a.status === 201) {
    const entry = a.body.entry;
    const b: BalanceRef = entry.balanceType === 'wallet' ? (sub ?? -1) : 'pool';
    if (!open.some((s) => drawsOn(s, sub ?? -1) === b))
      say(`drew on the ${entry.balanceType}, which no standing during it allowed`);
    if (room(b).high < m.credits) say(`the ${entry.balanceType} could have held at most ${room(b).high}: overdrawn`);
    if (entry.credits !== -m.credits) say(`entry credits ${entry.credits}`);
    shown(b, entry.balanceAfter, -m.credits, 'balanceAfter');
    if (b === 'pool' && sub !== undefined && open.every((s) => s.mode === 'manual' && s.limit !== null)) {
      const used = poolUse(h, flows, sub, start, end, m.key).least;
      const limit = Math.max(...open.map((s) => s.limit as number));
      if (used + m.credits > limit) say(`past the monthly limit: ${used} used before it, limit ${limit}`);
    }
    return;
  }
  if (a.body?.code === 'credit_limit_reached') {
    const used = sub === undefined ? 0 : poolUse(h, flows, sub, start, end, m.key).most;
    const could = open.some((s) => s.mode === 'manual' && s.limit !== null && used + m.credits > s.limit);
    if (!could) say(`limit refusal, but at most ${used} was used and no limit during it was below ${used + m.credits}`);
  }
  if (a.body?.code === 'insufficient_credits') {
    const short = open.filter((s) => room(drawsOn(s, sub ?? -1)).low < m.credits);
    if (short.length === 0) {
      const held = open.map((s) => `${drawsOn(s, sub ?? -1)} ≥ ${room(drawsOn(s, sub ?? -1)).low}`).join(', ');
      say(`a false 402: throughout, ${held}`);
    }
  }
}

function checkRead(h: History, flows: Flow[], b: BalanceRef, label: string, attempts: Attempt[], problems: string[]) {
  const a = finalOf(attempts);
  if (!a) return;
  const { start, end } = span(attempts);
  if (a.status === 404 && b !== 'pool' && h.standingsDuring(b, start, end).some((s) => s.mode === 'manual')) return;
  if (a.status !== 200) {
    problems.push(`${label}: read answered ${a.status} ${a.text}`);
    return;
  }
  const r = bounds(flows, b, start, end);
  if (a.body.balance < Math.max(0, r.low) || a.body.balance > r.high)
    problems.push(
      `${label}: read ${a.body.balance}, but the ${b === 'pool' ? 'pool' : `wallet ${b}`} was between ${r.low} and ${r.high}`,
    );
  if (b !== 'pool' && a.body.purchased - a.body.consumed - a.body.refunded !== a.body.balance)
    problems.push(`${label}: wallet read ${JSON.stringify(a.body)} does not add up`);
}
