import type { BalanceRef, Via, Who } from './commands';

/**
 * What a run did, as its clients saw it: every request's attempts with their answers, on one
 * logical clock (a tick when a request leaves, a tick when its answer arrives). An answer
 * that arrived before another request left is before it in real time: the only order the
 * checks rely on. Whatever a request did happened between its first attempt's send and its
 * final answer; what a key did, between the first send and the last answer of any request
 * with that key (a replay may commit what its original then only finds).
 */
export interface Attempt {
  via: Via;
  start: number;
  end: number;
  status: number;
  body: any;
  /** The body as sent: replays must match it word for word. */
  text: string;
}

export interface Standing {
  mode: 'manual' | 'reselling';
  limit: number | null;
  closed: boolean;
}

export interface MoneyRequest {
  op: 'usage' | 'topUp' | 'grant';
  key: string;
  /** usage: the account charged; grant: the sub-account credited; top-up: the agency. */
  who: Who;
  credits: number;
  label: string;
  attempts: Attempt[];
}

export interface StandingChange {
  sub: number;
  label: string;
  apply: (s: Standing) => Standing;
  attempts: Attempt[];
}

export interface Read {
  balance: BalanceRef;
  label: string;
  attempts: Attempt[];
}

export const span = (attempts: Attempt[]) => ({ start: attempts[0]?.start ?? Infinity, end: attempts.at(-1)?.end ?? -Infinity });
export const finalOf = (attempts: Attempt[]) => attempts.at(-1);
const applied = (c: StandingChange) => {
  const status = finalOf(c.attempts)?.status;
  return status === 200 || status === 204;
};

export class History {
  private clock = 0;
  readonly money: MoneyRequest[] = [];
  readonly changes: StandingChange[][];
  readonly reads: Read[] = [];

  constructor(readonly initial: Standing[]) {
    this.changes = initial.map(() => []);
  }

  tick(): number {
    return ++this.clock;
  }

  /** Every request with this key (an original and its replays). */
  withKey(key: string): MoneyRequest[] {
    return this.money.filter((m) => m.key === key);
  }

  /** When a key's outcome happened: within the hull of its requests. */
  keySpan(key: string) {
    const all = this.withKey(key).flatMap((m) => m.attempts);
    return { start: Math.min(...all.map((a) => a.start)), end: Math.max(...all.map((a) => a.end)) };
  }

  /**
   * The standings a sub-account may have had at some point in [start, end]. Its changes never
   * overlap one another (the harness sends them one at a time), so each standing holds from
   * somewhere in its change to somewhere in the next applied one.
   */
  standingsDuring(sub: number, start: number, end: number): Standing[] {
    const out: Standing[] = [];
    let standing = this.initial[sub]!;
    let from = -Infinity;
    for (const change of this.changes[sub]!.filter(applied)) {
      const { start: s, end: e } = span(change.attempts);
      if (from <= end && e >= start) out.push(standing);
      standing = change.apply(standing);
      from = s;
    }
    if (from <= end) out.push(standing);
    return out;
  }

  /** Every standing the sub-account had, in order. */
  standingsEver(sub: number): Standing[] {
    const out = [this.initial[sub]!];
    for (const c of this.changes[sub]!.filter(applied)) out.push(c.apply(out.at(-1)!));
    return out;
  }

  /** The standing once every change has answered. */
  settledStanding(sub: number): Standing {
    return this.changes[sub]!.filter(applied).reduce((s, c) => c.apply(s), this.initial[sub]!);
  }
}

/** A credit movement a key made (its final answer 201): a balance, a signed amount, and when it may have happened. */
export interface Flow {
  key: string;
  balance: BalanceRef;
  delta: number;
  start: number;
  end: number;
}

/**
 * The bounds of a balance over [start, end], from the flows (a key's own flow left out): at
 * least what surely came in before minus all that may have gone out by the end; at most all
 * that may have come in by the end minus what surely went out before.
 */
export function bounds(flows: Flow[], balance: BalanceRef, start: number, end: number, except?: string) {
  let low = 0;
  let high = 0;
  for (const f of flows) {
    if (f.balance !== balance || f.key === except) continue;
    const surely = f.end < start;
    const maybe = f.start < end;
    if (f.delta > 0) {
      if (surely) low += f.delta;
      if (maybe) high += f.delta;
    } else {
      if (maybe) low += f.delta;
      if (surely) high += f.delta;
    }
  }
  return { low, high };
}

/** The credit movements of every key whose outcome was a 201, from the answers alone. */
export function flowsOf(h: History): Flow[] {
  const flows: Flow[] = [];
  const seen = new Set<string>();
  for (const m of h.money) {
    if (seen.has(m.key)) continue;
    seen.add(m.key);
    const answer = h
      .withKey(m.key)
      .map((r) => finalOf(r.attempts))
      .find((a) => a?.status === 201);
    if (!answer) continue;
    const when = h.keySpan(m.key);
    const flow = (balance: BalanceRef, delta: number) => flows.push({ key: m.key, balance, delta, ...when });
    if (m.op === 'topUp') flow('pool', m.credits);
    if (m.op === 'grant') {
      flow('pool', -m.credits);
      flow(m.who as number, m.credits);
    }
    if (m.op === 'usage') flow(answer.body.entry.balanceType === 'wallet' ? (m.who as number) : 'pool', -m.credits);
  }
  return flows;
}

export const total = (flows: Flow[], balance: BalanceRef) =>
  flows.filter((f) => f.balance === balance).reduce((n, f) => n + f.delta, 0);
