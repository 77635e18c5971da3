/**
 * Design 0, today's code (packages/domain/ledger/commit.ts, usage.ts, db/transact.ts): each
 * debit is ONE TransactWriteItems of the balance (pool or wallet, version-pinned, balance ≥ q),
 * the entry (LEDGER#agc, with its gsi1 copy), the sub-account's account item (mode guard and
 * month meter, limit room; gsi1 SUBS#agc copy) and the day counter (USAGE#agc, gsi1 copy):
 * 11 write units. A TransactionConflict is retried with full-jitter backoff (20·2^k ms, at most
 * 400) up to 4 times in one call, then 503; a failed condition refreshes the hint from the
 * returned item and goes again (≤ 100 rounds, a pause of up to min(round, 20) ms after the
 * second); a throttle is not handled (it surfaces as a 500). Containers remember each balance's
 * version and each account's mode and meter month.
 */
import { readLatencyMs } from '../aws';
import {
  type Answer,
  type Ctx,
  creditEntryWrite,
  type Design,
  dayOf,
  entryWrite,
  probeFor,
  refusal,
  storeRefusal,
} from '../design';
import type { Item, Snapshot, TxResult, Write } from '../dynamo';
import type { Proc } from '../engine';
import type { Container } from '../lambda';
import { type Debit, type Mode, POOL, type SubAccount, walletOf } from '../world';

interface AccountHint {
  mode: Mode;
  hasLimit: boolean;
  meterMonth: number;
}

export interface TodayState {
  balances: Map<string, { balance: number; version: number }>;
  accounts: Map<number, AccountHint>;
}

const MAX_ROUNDS = 100;
const ANSWER_MARGIN_MS = 250;
const CONFLICT_ATTEMPTS = 4;

const balanceItem = (ctx: Ctx, holder: string) =>
  holder === POOL
    ? ctx.db.item('POOL', 'ACCOUNT#agc', { holds: POOL, bytes: 250 })
    : ctx.db.item(`WALLET#${holder.slice(7)}`, `ACCOUNT#${holder.slice(7)}`, { holds: holder, bytes: 250 });
const accountItem = (ctx: Ctx, sub: SubAccount) =>
  ctx.db.item(`ACCT#${sub.id}`, `ACCOUNT#${sub.id}`, { gsiPk: 'SUBS#agc', bytes: 600 });

/** db/transact.ts: conflicts retried with backoff, a failed condition returned, a throttle thrown. */
function* transactLikeToday(ctx: Ctx, writes: Write[], probe?: () => readonly [number, number]): Proc<TxResult | 'try_again'> {
  for (let attempt = 1; ; attempt++) {
    const r = yield* ctx.db.transact(writes, 'request', probe);
    if (r.ok || r.throttled || r.reasons.includes('condition')) return r;
    if (attempt >= CONFLICT_ATTEMPTS) return 'try_again';
    yield ctx.rng.uniform() * Math.min(400, 20 * 2 ** attempt);
  }
}

export const today: Design<TodayState> = {
  name: '0',
  title: "today's design (one TransactWriteItems of 4 items, version-pinned balance)",

  setup(ctx, initial) {
    for (const [holder, credits] of initial) {
      const it = balanceItem(ctx, holder);
      it.exists = true;
      it.version = 1;
      it.balance = credits;
      ctx.db.credits.set(holder, credits);
      ctx.world.addCredits(holder, credits);
    }
    for (const sub of ctx.world.subs) {
      const a = accountItem(ctx, sub);
      a.exists = true;
      a.mode = sub.mode === 'reselling' ? 1 : 0;
      a.limit = sub.limit;
      a.allowance = sub.limit;
      a.month = ctx.world.month;
    }
  },

  newContainer: () => ({ balances: new Map(), accounts: new Map() }),

  *debit(ctx, c, req) {
    const { db, world, sim } = ctx;
    const st = c.state;
    const sub = req.sub;
    const q = req.q;
    const account = accountItem(ctx, sub);
    if (!st.accounts.has(sub.id)) {
      yield* db.read(readLatencyMs(ctx.rng));
      st.accounts.set(sub.id, {
        mode: account.mode ? 'reselling' : 'manual',
        hasLimit: account.limit > 0,
        meterMonth: account.month,
      });
    }
    for (let round = 1; round <= MAX_ROUNDS && req.deadline - sim.now > ANSWER_MARGIN_MS; round++) {
      const hint = st.accounts.get(sub.id)!;
      const month = world.month;
      const holder = hint.mode === 'reselling' ? walletOf(sub) : POOL;
      const balance = balanceItem(ctx, holder);
      let seen = st.balances.get(balance.key);
      if (!seen) {
        yield* db.read(readLatencyMs(ctx.rng));
        seen = { balance: balance.balance, version: balance.version };
        st.balances.set(balance.key, seen);
      }
      const from = seen;
      const rollover = hint.meterMonth !== month;
      const poolQ = hint.mode === 'manual' ? q : 0;
      const writes: Write[] = [
        {
          item: balance,
          check: (it) => it.version === from.version && it.balance >= q,
          apply: (it) => {
            it.balance -= q;
            it.version++;
          },
        },
        entryWrite(ctx, req, holder, month, 1),
        {
          item: account,
          check: (it) =>
            (it.mode === 1) === (hint.mode === 'reselling') &&
            it.month === (rollover ? hint.meterMonth : month) &&
            (hint.hasLimit ? it.limit > 0 && (poolQ === 0 || (rollover ? it.limit : it.allowance) >= poolQ) : it.limit === 0),
          apply: (it) => {
            if (rollover) it.month = month;
            if (it.limit > 0) it.allowance = (rollover ? it.limit : it.allowance) - poolQ;
          },
        },
        {
          item: db.item(`USAGE#${dayOf(month)}#${sub.id}`, 'USAGE#agc', { gsiPk: `ACCOUNT#${sub.id}#USAGE`, bytes: 300 }),
          apply: (it) => it.version++,
        },
      ];
      const r = yield* transactLikeToday(ctx, writes, probeFor(ctx, sub, holder, month));
      if (r === 'try_again') return { status: 503 } as Answer;
      if (r.throttled) return { status: 500 } as Answer;
      if (r.ok) {
        st.balances.set(balance.key, { balance: from.balance - q, version: from.version + 1 });
        hint.meterMonth = month;
        return { status: 201 } as Answer;
      }
      const meter = r.seen[2];
      if (meter) {
        remember(st, sub, meter);
        const remaining = meter.month === month ? meter.allowance : meter.limit;
        if (meter.limit > 0 && meter.mode === 0 && remaining < q) {
          yield* storeRefusal(ctx, req, 1);
          return refusal('credit_limit_reached', r.truth);
        }
      }
      const held = r.seen[0];
      if (held) st.balances.set(balance.key, { balance: held.balance, version: held.version });
      if (!meter && held && held.balance < q) {
        yield* storeRefusal(ctx, req, 1);
        return refusal('insufficient_credits', r.truth);
      }
      if (round > 2) yield ctx.rng.uniform() * Math.min(round, 20);
    }
    return { status: 503 } as Answer;
  },

  *topUp(ctx, holder, amount) {
    const balance = balanceItem(ctx, holder);
    for (let seq = 0; ; seq++) {
      const v = balance.version;
      const r = yield* ctx.db.transact(
        [
          {
            item: balance,
            check: (it) => it.version === v,
            apply: (it) => {
              it.balance += amount;
              it.version++;
            },
          },
          creditEntryWrite(ctx, holder, amount, 1, seq),
        ],
        'background',
      );
      if (r.ok) return;
      yield ctx.rng.uniform() * 40;
    }
  },

  *switchMode(ctx, sub, mode) {
    yield* updateAccount(ctx, sub, (it) => {
      it.mode = mode === 'reselling' ? 1 : 0;
      sub.mode = mode;
    });
    sub.switchAnsweredAt = ctx.sim.now;
  },

  *changeLimit(ctx, sub, limit) {
    yield* updateAccount(ctx, sub, (it) => {
      it.allowance += limit - it.limit;
      it.limit = limit;
      sub.limit = limit;
    });
  },

  *rollover() {
    // The meter rolls on the first debit of the month (its condition names the month seen).
  },
};

/** The account update (mode, limit) as today: one UpdateItem, retried while a debit's transaction holds the item. */
function* updateAccount(ctx: Ctx, sub: SubAccount, apply: (it: Item) => void): Proc {
  for (;;) {
    const r = yield* ctx.db.write({ item: accountItem(ctx, sub), apply }, 'background');
    if (r === 'ok') return;
    yield ctx.rng.uniform() * 50;
  }
}

function remember(st: TodayState, sub: SubAccount, meter: Snapshot): void {
  st.accounts.set(sub.id, { mode: meter.mode ? 'reselling' : 'manual', hasLimit: meter.limit > 0, meterMonth: meter.month });
}

export type { Container, Debit };
