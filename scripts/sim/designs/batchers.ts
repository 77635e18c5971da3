/**
 * Design C, lane batchers (HOT-POOL-NOTES §2 C): the API puts each debit on a Kinesis stream,
 * partitioned by lane (a sub-account is pinned to a lane by hash; a busy one is split over
 * enough lanes to stay under ~500/s each), then polls the entry key until the entry or the
 * refusal stored under it appears (the Lambda container is held meanwhile). One writer per lane
 * (enhanced fan-out, ~70 ms propagation) takes up to `batchMax` records and commits them in ONE
 * TransactWriteItems: the lane (version-pinned; only its writer writes it), every entry (exact
 * balanceAfter), the LIMIT items of the limited sub-accounts in the batch, and a refill from the
 * reserve when the lane runs short. Records it cannot pay are refused: after a refill from the
 * reserve fails, 402 (credits on other lanes are not looked at: stranded). A Kinesis shard takes
 * 1,000 records/s; past that PutRecord is throttled (retried twice, then 503).
 */
import { AWS, efoPropagationMs, putRecordMs, readLatencyMs } from '../aws';
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
  refusal,
  switchModeByTtl,
} from '../design';
import type { Item, Truth, Write } from '../dynamo';
import type { Proc, Signal } from '../engine';
import { type Debit, POOL, type SubAccount } from '../world';

export interface BatchersState {
  accounts: Map<number, AccountHint>;
}

export interface BatchersTuning {
  /** Expected debits/s of a sub-account (a busy one is split over lanes). */
  rateOf: (sub: SubAccount) => number;
  meanQ: number;
}

interface Pending {
  req: Debit;
  holder: string;
  limited: boolean;
  answer?: Answer;
}

interface LaneWriter {
  holder: string;
  index: number;
  queue: Pending[];
  busy: boolean;
  wake: Signal;
  /** Kinesis shard ingest (records) bucket. */
  tokens: number;
  at: number;
}

const POLL_TIMEOUT_MS = 5000;

export function batchersDesign(tuning: BatchersTuning): Design<BatchersState> {
  let aggregator: Aggregator | undefined;
  const writers = new Map<string, LaneWriter>();
  const reserveOf = (ctx: Ctx, holder: string) =>
    ctx.db.item(`RES#${holder}`, holder === POOL ? 'ACCOUNT#agc' : `ACCOUNT#${holder.slice(7)}`, { holds: holder, bytes: 250 });
  const laneItem = (ctx: Ctx, holder: string, i: number) =>
    ctx.db.item(`BLANE#${holder}#${i}`, `BLANE#${holder}#${i}`, { holds: holder, bytes: 250 });
  const lanesFor = (ctx: Ctx) => ctx.opts.batcherLanes;

  /** The lane a debit goes to: pinned by sub-account, a busy one spread over ceil(rate/500) lanes. */
  const laneFor = (ctx: Ctx, sub: SubAccount, seq: number) => {
    const n = lanesFor(ctx);
    const spread = Math.min(n, Math.max(1, Math.ceil(tuning.rateOf(sub) / 500)));
    return (((sub.id * 2654435761) >>> 0) + (seq % spread)) % n;
  };

  function writerOf(ctx: Ctx, holder: string, index: number): LaneWriter {
    const key = `${holder}#${index}`;
    let w = writers.get(key);
    if (!w) {
      w = {
        holder,
        index,
        queue: [],
        busy: false,
        wake: ctx.sim.signal(),
        tokens: AWS.kinesisRecordsPerShardPerSecond,
        at: ctx.sim.now,
      };
      writers.set(key, w);
      ctx.sim.spawn(writerLoop(ctx, w));
    }
    return w;
  }

  function* writerLoop(ctx: Ctx, w: LaneWriter): Proc {
    const lane = laneItem(ctx, w.holder, w.index);
    for (;;) {
      if (!w.queue.length) yield w.wake;
      const batch = w.queue.splice(0, ctx.opts.batchMax);
      const month = ctx.world.month;
      for (let attempt = 1; ; attempt++) {
        // Judge each record against the lane as it is (only this writer moves it) plus one refill.
        let balance = lane.balance;
        const reserve = reserveOf(ctx, w.holder);
        const refillWanted = Math.ceil(500 * tuning.meanQ);
        const need = batch.reduce((a, p) => a + p.req.q, 0);
        const refill = balance < need + refillWanted / 2 ? Math.min(refillWanted + need, reserve.balance) : 0;
        balance += refill;
        const limits = new Map<number, { item: Item; room: number; take: number }>();
        const accepted: Pending[] = [];
        const decided = new Map<Pending, Answer>();
        for (const p of batch) {
          let room = Number.POSITIVE_INFINITY;
          let l: { item: Item; room: number; take: number } | undefined;
          if (p.limited) {
            l = limits.get(p.req.sub.id);
            if (!l) {
              const item = limitItem(ctx, p.req.sub, month);
              l = { item, room: item.allowance, take: 0 };
              limits.set(p.req.sub.id, l);
            }
            room = l.room - l.take;
          }
          const truth: Truth = [ctx.db.credit(w.holder), ctx.world.room(p.req.sub, month)];
          if (room < p.req.q) decided.set(p, refusal('credit_limit_reached', truth));
          else if (balance < p.req.q) decided.set(p, refusal('insufficient_credits', truth, truth[0] - balance));
          else {
            balance -= p.req.q;
            if (l) l.take += p.req.q;
            accepted.push(p);
          }
        }
        const spent = accepted.reduce((a, p) => a + p.req.q, 0);
        const v = lane.version;
        const writes: Write[] = [
          {
            item: lane,
            check: (it) => it.version === v,
            apply: (it) => {
              it.balance += refill - spent;
              it.version++;
            },
          },
          ...accepted.map((p) =>
            entryWrite(ctx, p.req, w.holder, month, ctx.opts.entryShards, () => aggregator?.saw(p.req, month)),
          ),
          ...[...limits.values()]
            .filter((l) => l.take > 0)
            .map((l) => ({
              item: l.item,
              check: (it: Item) => it.allowance >= l.take,
              apply: (it: Item) => (it.allowance -= l.take),
            })),
        ];
        if (refill > 0) {
          writes.push({
            item: reserve,
            check: (it) => it.balance >= refill,
            apply: (it) => {
              it.balance -= refill;
              it.version++;
            },
          });
        }
        // Refusals are stored under their keys with the batch (one more put each, in the same call when room).
        for (const p of [...decided.keys()].slice(0, Math.max(0, AWS.maxTransactItems - writes.length))) {
          writes.push({
            item: ctx.db.fresh(`LEDGER#agc#${p.req.seq % ctx.opts.entryShards}`, undefined, 200),
            check: (it) => !it.exists,
          });
        }
        const r = yield* ctx.db.transact(writes, 'background');
        if (r.ok) {
          for (const p of accepted) p.answer = { status: 201 };
          for (const [p, a] of decided) p.answer = a;
          break;
        }
        if (attempt >= 5) {
          for (const p of batch) p.answer = { status: 503 };
          break;
        }
        yield ctx.rng.uniform() * 20 * attempt;
      }
    }
  }

  return {
    name: 'C',
    title: 'lane batchers (Kinesis, one writer per lane, batched transactions)',

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

    newContainer: () => ({ accounts: new Map() }),

    *debit(ctx, c, req) {
      const hint = yield* accountHint(ctx, c.state.accounts, req.sub);
      const holder = hintHolder(req.sub, hint);
      const w = writerOf(ctx, holder, laneFor(ctx, req.sub, req.seq));
      const p: Pending = { req, holder, limited: hintLimited(hint) };
      for (let attempt = 1; ; attempt++) {
        yield putRecordMs(ctx.rng);
        ctx.db.countExternalCall('request');
        const now = ctx.sim.now;
        w.tokens = Math.min(
          AWS.kinesisRecordsPerShardPerSecond,
          w.tokens + ((now - w.at) * AWS.kinesisRecordsPerShardPerSecond) / 1000,
        );
        w.at = now;
        if (w.tokens >= 1) {
          w.tokens--;
          break;
        }
        if (attempt >= 3) return { status: 503 } as Answer;
        yield ctx.rng.uniform() * 50 * attempt;
      }
      ctx.sim.after(efoPropagationMs(ctx.rng), () => {
        w.queue.push(p);
        w.wake.notify();
      });
      // Poll the entry key until the writer's answer is there.
      const started = ctx.sim.now;
      while (!p.answer && ctx.sim.now - started < POLL_TIMEOUT_MS) {
        yield ctx.opts.batcherPollMs;
        yield* ctx.db.read(readLatencyMs(ctx.rng));
      }
      return p.answer ?? ({ status: 503 } as Answer);
    },

    *topUp(ctx, holder, amount) {
      const reserve = reserveOf(ctx, holder);
      for (let seq = 0; ; seq++) {
        const r = yield* ctx.db.transact(
          [
            {
              item: reserve,
              apply: (it) => {
                it.balance += amount;
                it.version++;
              },
            },
            creditEntryWrite(ctx, holder, amount, ctx.opts.entryShards, seq),
          ],
          'background',
        );
        if (r.ok) return;
        yield ctx.rng.uniform() * 20;
      }
    },

    *switchMode(ctx, sub, mode) {
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
