/**
 * The agency being simulated: its sub-accounts (mode, monthly limit, use per month), the month,
 * the credits put in per holder, and the ground truth each refusal is judged against. Designs
 * report what they committed and what they refused; the world says whether a refusal was
 * true (the agency, or the wallet, really held fewer credits than asked; the month's use plus
 * the quantity really exceeded the limit) and whether a debit drew on the balance of a mode
 * that had already been switched away from.
 */
import type { Table } from './dynamo';

export type Mode = 'manual' | 'reselling';

export interface SubAccount {
  /** 1-based rank: 1 is the busiest. */
  id: number;
  mode: Mode;
  /** Monthly limit on pool credits (manual mode); 0: none. */
  limit: number;
  /** Pool credits used per month (what a limit counts). */
  used: Map<number, number>;
  /** When the last mode switch was answered (a debit that arrived later must see the new mode). */
  switchAnsweredAt: number;
}

export const POOL = 'pool';
export const walletOf = (sub: SubAccount | number) => `wallet:${typeof sub === 'number' ? sub : sub.id}`;
/** The balance a debit of this sub-account draws on. */
export const holderOf = (sub: SubAccount) => (sub.mode === 'reselling' ? walletOf(sub) : POOL);
/** Whether a monthly limit applies to its debits (manual mode with a limit). */
export const isLimited = (sub: SubAccount) => sub.mode === 'manual' && sub.limit > 0;

export interface Debit {
  seq: number;
  sub: SubAccount;
  /** Credits to take. */
  q: number;
  arrivedAt: number;
  /** When the handler must have answered (Lambda timeout less the answer margin). */
  deadline: number;
}

export class World {
  month = 1;
  readonly subs: SubAccount[];
  /** Credits put in (initial, top-ups, grants) per holder. */
  readonly creditsIn = new Map<string, number>();
  /** Credits taken by committed debits per holder. */
  readonly debited = new Map<string, number>();
  /** Debits committed on the balance of a mode switched away from, after the switch was answered. */
  staleModeDebits = 0;
  committedInWindow = 0;
  measuring = false;

  constructor(
    readonly db: Table,
    subs: { mode: Mode; limit: number }[],
  ) {
    this.subs = subs.map((s, i) => ({ id: i + 1, mode: s.mode, limit: s.limit, used: new Map(), switchAnsweredAt: -1 }));
  }

  usedIn(sub: SubAccount, month: number): number {
    return sub.used.get(month) ?? 0;
  }

  /** Room left under the limit this month (Infinity without one). */
  room(sub: SubAccount, month = this.month): number {
    return sub.limit > 0 && sub.mode === 'manual' ? sub.limit - this.usedIn(sub, month) : Number.POSITIVE_INFINITY;
  }

  /** [credits the debit's holder truly has, limit room truly left]: a design's probe at a judging instant. */
  truth(sub: SubAccount, holder: string, month = this.month): [number, number] {
    return [this.db.credit(holder), this.room(sub, month)];
  }

  addCredits(holder: string, amount: number): void {
    this.creditsIn.set(holder, (this.creditsIn.get(holder) ?? 0) + amount);
  }

  /** A debit's entry committed: called from the entry write's apply. */
  recordDebit(req: Debit, holder: string, month: number): void {
    this.debited.set(holder, (this.debited.get(holder) ?? 0) + req.q);
    if (holder === POOL && req.sub.limit > 0) req.sub.used.set(month, this.usedIn(req.sub, month) + req.q);
    if (req.arrivedAt > req.sub.switchAnsweredAt && req.sub.switchAnsweredAt >= 0 && holder !== holderOf(req.sub)) {
      this.staleModeDebits++;
    }
    if (this.measuring) this.committedInWindow++;
  }

  /** Credits in − credits debited − credits held by items, per holder: 0 everywhere when nothing is created or lost. */
  imbalance(): Map<string, number> {
    const out = new Map<string, number>();
    const holders = new Set([...this.creditsIn.keys(), ...this.debited.keys(), ...this.db.credits.keys()]);
    for (const h of holders) {
      const d = (this.creditsIn.get(h) ?? 0) - (this.debited.get(h) ?? 0) - this.db.credit(h);
      if (d !== 0) out.set(h, d);
    }
    return out;
  }
}
