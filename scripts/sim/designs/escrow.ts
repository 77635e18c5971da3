/**
 * Design A, escrowed lanes shared by every container (HOT-POOL-NOTES §2 A): each sub-account's
 * credits are pre-drawn from the pool (or its wallet) into lanes LANE#sub#k, and for a limited
 * one pre-counted against its limit; there are enough lanes for ~5 debits/s each (sized from
 * the offered load: an oracle, the design's best case). A debit picks a lane at random:
 * [lane −q IF balance ≥ q AND month AND open; entry] (no version pin). A conflict tries another
 * lane; a lane short of credits is refilled with ~200 debits' worth [reserve −x IF ≥ x AND not
 * collapsed; LIMIT −x IF room; lane +x]. When the reserve cannot refill, the design collapses to
 * the pool item: reserve marked collapsed, every lane of the balance emptied back, and debits go
 * version-pinned on the reserve as today's do; 402 only there, after the collect found nothing.
 */
import { readLatencyMs } from '../aws';
import {
  type AccountHint,
  Aggregator,
  type Answer,
  accountHint,
  type Ctx,
  creditEntryWrite,
  type Design,
  entryWrite,
  hintHolder,
  hintLimited,
  limitItem,
  probeFor,
  refusal,
  storeRefusal,
  switchModeByTtl,
} from '../design';
import type { Item, Write } from '../dynamo';
import type { Proc } from '../engine';
import { POOL, type SubAccount } from '../world';

export interface EscrowState {
  accounts: Map<number, AccountHint>;
  reserves: Map<string, { balance: number; version: number }>;
}

export interface EscrowTuning {
  /** Expected debits/s of a sub-account (sizes its lanes). */
  rateOf: (sub: SubAccount) => number;
  /** A top-up reopens lanes once the reserve holds this many credits. */
  uncollapseCredits: number;
  meanQ: number;
}

const MAX_ROUNDS = 30;

export function escrowDesign(tuning: EscrowTuning): Design<EscrowState> {
  let aggregator: Aggregator | undefined;
  /** Lanes ever filled, per holder (the collector's index). */
  const filled = new Map<string, Set<Item>>();
  const reserveOf = (ctx: Ctx, holder: string) =>
    ctx.db.item(`RES#${holder}`, holder === POOL ? 'ACCOUNT#agc' : `ACCOUNT#${holder.slice(7)}`, { holds: holder, bytes: 250 });
  const lanesOf = (sub: SubAccount) => Math.max(1, Math.ceil(tuning.rateOf(sub) * 0.2));
  const laneOf = (ctx: Ctx, sub: SubAccount, holder: string, k: number) =>
    ctx.db.item(`LANE#${sub.id}#${holder}#${k}`, `LANE#${sub.id}#${holder}#${k}`, { holds: holder, bytes: 200 });

  function* collect(ctx: Ctx, holder: string): Proc<number> {
    const reserve = reserveOf(ctx, holder);
    if (!reserve.flag) yield* ctx.db.write({ item: reserve, apply: (it) => (it.flag = true) }, 'request');
    const lanes = [...(filled.get(holder) ?? [])].filter((l) => l.balance > 0);
    yield* ctx.db.read(readLatencyMs(ctx.rng, 1 + Math.ceil((filled.get(holder)?.size ?? 0) / 100)));
    let pending = lanes.length;
    if (!pending) return 0;
    const done = ctx.sim.signal();
    for (const lane of lanes) {
      ctx.sim.spawn(
        (function* () {
          for (let i = 0; i < 8 && lane.balance > 0; i++) {
            const b = lane.balance;
            const r = yield* ctx.db.transact(
              [
                { item: lane, check: (it) => it.balance === b, apply: (it) => (it.balance = 0) },
                {
                  item: reserve,
                  apply: (it) => {
                    it.balance += b;
                    it.version++;
                  },
                },
              ],
              'request',
            );
            if (r.ok) return;
            yield ctx.rng.uniform() * 10;
          }
        })(),
        () => {
          if (--pending === 0) done.notify();
        },
      );
    }
    yield done;
    return lanes.length;
  }

  return {
    name: 'A',
    title: 'escrowed lanes shared by all containers',

    setup(ctx, initial) {
      for (const [holder, credits] of initial) {
        const it = reserveOf(ctx, holder);
        it.exists = true;
        it.version = 1;
        it.balance = credits;
        ctx.db.credits.set(holder, credits);
        ctx.world.addCredits(holder, credits);
      }
    },

    newContainer: () => ({ accounts: new Map(), reserves: new Map() }),

    *debit(ctx, c, req) {
      const st = c.state;
      const hint = yield* accountHint(ctx, st.accounts, req.sub);
      const holder = hintHolder(req.sub, hint);
      const limited = hintLimited(hint);
      const reserve = reserveOf(ctx, holder);
      const entry = (month: number) =>
        entryWrite(ctx, req, holder, month, ctx.opts.entryShards, () => aggregator?.saw(req, month));
      let collected = -1;
      for (let round = 1; round <= MAX_ROUNDS && req.deadline - ctx.sim.now > 250; round++) {
        const month = ctx.world.month;
        if (!reserve.flag || reserve.balance >= tuning.uncollapseCredits) {
          const lane = laneOf(ctx, req.sub, holder, ctx.rng.int(lanesOf(req.sub)));
          const r = yield* ctx.db.transact(
            [
              {
                item: lane,
                check: (it) => it.balance >= req.q && (!limited || (it.month === month && it.allowance >= req.q)),
                apply: (it) => {
                  it.balance -= req.q;
                  if (limited) it.allowance -= req.q;
                },
              },
              entry(month),
            ],
            'request',
          );
          if (r.ok) return { status: 201 } as Answer;
          if (r.reasons[0] !== 'condition') continue; // a conflict or a throttle: another lane
          // The lane is short: refill it with ~200 debits' worth.
          const x = Math.ceil(200 * tuning.meanQ);
          const fill: Write[] = [
            {
              item: reserve,
              check: (it) => !it.flag && it.balance >= x,
              apply: (it) => {
                it.balance -= x;
                it.version++;
              },
            },
            {
              item: lane,
              apply: (it) => {
                if (limited && it.month !== month) {
                  it.month = month;
                  it.allowance = 0;
                }
                it.balance += x;
                if (limited) it.allowance += x;
              },
            },
          ];
          if (limited)
            fill.push({
              item: limitItem(ctx, req.sub, month),
              check: (it) => it.allowance >= x,
              apply: (it) => (it.allowance -= x),
            });
          let set = filled.get(holder);
          if (!set) filled.set(holder, (set = new Set()));
          set.add(lane);
          const f = yield* ctx.db.transact(fill, 'request');
          if (f.ok || (!f.seen[0] && !f.seen[2])) continue;
          // The reserve (or the limit) cannot refill: collapse to the pool item.
          if (collected < 0 && f.seen[0]) collected = yield* collect(ctx, holder);
          else if (!f.seen[0]) collected = 0;
        }
        // Collapsed (or the limit's room too small for a chunk): today's path on the reserve.
        let h = st.reserves.get(holder);
        if (!h) {
          yield* ctx.db.read(readLatencyMs(ctx.rng));
          st.reserves.set(holder, (h = { balance: reserve.balance, version: reserve.version }));
        }
        const v = h.version;
        const writes: Write[] = [
          {
            item: reserve,
            check: (it) => it.version === v && it.balance >= req.q,
            apply: (it) => {
              it.balance -= req.q;
              it.version++;
            },
          },
          entry(month),
        ];
        if (limited) {
          writes.push({
            item: limitItem(ctx, req.sub, month),
            check: (it) => it.allowance >= req.q,
            apply: (it) => (it.allowance -= req.q),
          });
        }
        const r = yield* ctx.db.transact(writes, 'request', probeFor(ctx, req.sub, holder, month));
        if (r.ok) {
          st.reserves.set(holder, { balance: h.balance - req.q, version: v + 1 });
          return { status: 201 } as Answer;
        }
        if (r.seen[0]) st.reserves.set(holder, { balance: r.seen[0].balance, version: r.seen[0].version });
        if (limited && r.seen[2] && r.seen[2].allowance < req.q) {
          yield* storeRefusal(ctx, req, ctx.opts.entryShards);
          return refusal('credit_limit_reached', r.truth);
        }
        if (r.seen[0] && r.seen[0].balance < req.q) {
          if (collected < 0) {
            collected = yield* collect(ctx, holder);
            continue;
          }
          yield* storeRefusal(ctx, req, ctx.opts.entryShards);
          return refusal('insufficient_credits', r.truth, r.truth[0] - r.seen[0].balance);
        }
        yield ctx.rng.uniform() * Math.min(round, 20);
      }
      return { status: 503 } as Answer;
    },

    *topUp(ctx, holder, amount) {
      const reserve = reserveOf(ctx, holder);
      for (let seq = 0; ; seq++) {
        const v = reserve.version;
        const r = yield* ctx.db.transact(
          [
            {
              item: reserve,
              check: (it) => it.version === v,
              apply: (it) => {
                it.balance += amount;
                it.version++;
                if (it.balance >= tuning.uncollapseCredits) it.flag = false;
              },
            },
            creditEntryWrite(ctx, holder, amount, ctx.opts.entryShards, seq),
          ],
          'background',
        );
        if (r.ok) return;
        yield ctx.rng.uniform() * 10 * Math.min(seq + 1, 10);
      }
    },

    *switchMode(ctx, sub, mode) {
      // Freezing the sub-account's lanes is the notes' open risk; here the switch only waits out the hints.
      yield* switchModeByTtl(ctx, sub, mode);
    },

    *changeLimit(ctx, sub, limit) {
      for (;;) {
        const r = yield* ctx.db.write(
          {
            item: limitItem(ctx, sub, ctx.world.month),
            check: (it) => it.allowance + limit - it.limit >= 0,
            apply: (it) => {
              it.allowance += limit - it.limit;
              it.limit = limit;
              sub.limit = limit;
            },
          },
          'background',
        );
        if (r === 'ok' || r === 'condition') return;
        yield ctx.rng.uniform() * 20;
      }
    },

    *rollover() {},

    start(ctx) {
      aggregator = new Aggregator(ctx);
      aggregator.start();
    },
  };
}
