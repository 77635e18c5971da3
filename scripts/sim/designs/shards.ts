/**
 * Design B, pool shards with the meter in the transaction (HOT-POOL-NOTES §2 B): a balance is
 * `poolShards` version-pinned shard items; a debit picks a shard at random and commits
 * [shard −q IF version AND balance ≥ q; entry; LIMIT item +q IF used + q ≤ limit for a limited
 * sub-account]. A moved version or a conflict moves on to another shard (its hint refreshed); a
 * shard short of credits sends the debit to up to `SHORT_TRIES` other shards, then it is
 * refused 402 — with credits possibly left on shards it did not try (stranded). A top-up spreads
 * over 10 random shards in one transaction. Entries sharded, counters by the aggregator.
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

export interface ShardsState {
  accounts: Map<number, AccountHint>;
  hints: Map<string, { balance: number; version: number }>;
}

const SHORT_TRIES = 3;
const MAX_ROUNDS = 30;
const TOP_UP_SPREAD = 10;

export function shardsDesign(): Design<ShardsState> {
  let aggregator: Aggregator | undefined;
  const shardOf = (ctx: Ctx, holder: string, j: number): Item =>
    ctx.db.item(`SHARD#${holder}#${j}`, `SHARD#${holder}#${j}`, { holds: holder, bytes: 250 });

  return {
    name: 'B',
    title: 'pool shards, limit in the transaction',

    setup(ctx, initial) {
      const n = ctx.opts.poolShards;
      for (const [holder, credits] of initial) {
        for (let j = 0; j < n; j++) {
          const it = shardOf(ctx, holder, j);
          it.exists = true;
          it.version = 1;
          it.balance = Math.floor(credits / n) + (j < credits % n ? 1 : 0);
        }
        ctx.db.credits.set(holder, credits);
        ctx.world.addCredits(holder, credits);
      }
    },

    newContainer: () => ({ accounts: new Map(), hints: new Map() }),

    *debit(ctx, c, req) {
      const st = c.state;
      const n = ctx.opts.poolShards;
      const hint = yield* accountHint(ctx, st.accounts, req.sub);
      const holder = hintHolder(req.sub, hint);
      const limited = hintLimited(hint);
      let shortTries = 0;
      for (let round = 1; round <= MAX_ROUNDS && req.deadline - ctx.sim.now > 250; round++) {
        const month = ctx.world.month;
        const shard = shardOf(ctx, holder, ctx.rng.int(n));
        let h = st.hints.get(shard.key);
        if (!h) {
          yield* ctx.db.read(readLatencyMs(ctx.rng));
          st.hints.set(shard.key, (h = { balance: shard.balance, version: shard.version }));
        }
        const v = h.version;
        const writes: Write[] = [
          {
            item: shard,
            check: (it) => it.version === v && it.balance >= req.q,
            apply: (it) => {
              it.balance -= req.q;
              it.version++;
            },
          },
          entryWrite(ctx, req, holder, month, ctx.opts.entryShards, () => aggregator?.saw(req, month)),
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
          st.hints.set(shard.key, { balance: h.balance - req.q, version: v + 1 });
          return { status: 201 } as Answer;
        }
        const seen = r.seen[0];
        if (seen) st.hints.set(shard.key, { balance: seen.balance, version: seen.version });
        if (limited && r.seen[2] && r.seen[2].allowance < req.q) {
          yield* storeRefusal(ctx, req, ctx.opts.entryShards);
          return refusal('credit_limit_reached', r.truth);
        }
        if (seen && seen.balance < req.q && ++shortTries > SHORT_TRIES) {
          yield* storeRefusal(ctx, req, ctx.opts.entryShards);
          return refusal('insufficient_credits', r.truth, r.truth[0] - seen.balance);
        }
        if (r.throttled || r.reasons.includes('conflict')) yield ctx.rng.uniform() * Math.min(2 * 2 ** round, 100);
      }
      return { status: 503 } as Answer;
    },

    *topUp(ctx, holder, amount) {
      const n = ctx.opts.poolShards;
      for (let seq = 0; ; seq++) {
        const picks = new Set<number>();
        while (picks.size < Math.min(TOP_UP_SPREAD, n)) picks.add(ctx.rng.int(n));
        const each = Math.floor(amount / picks.size);
        const writes: Write[] = [...picks].map((j, i) => ({
          item: shardOf(ctx, holder, j),
          apply: (it: Item) => {
            it.balance += each + (i === 0 ? amount - each * picks.size : 0);
            it.version++;
          },
        }));
        writes.push(creditEntryWrite(ctx, holder, amount, ctx.opts.entryShards, seq));
        const r = yield* ctx.db.transact(writes, 'background');
        if (r.ok) return;
        yield ctx.rng.uniform() * 20;
      }
    },

    *switchMode(ctx, sub, mode) {
      yield* switchModeByTtl(ctx, sub, mode);
    },

    *changeLimit(ctx, sub, limit) {
      for (;;) {
        const item = limitItem(ctx, sub, ctx.world.month);
        const r = yield* ctx.db.write(
          {
            item,
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
