/**
 * What a design is to the model: the items it keeps, the memory each container holds, how it
 * takes one debit, and how it carries out the agency's other moves (a top-up, a mode switch, a
 * limit change, the month's rollover) and its background work. Shared pieces live here: the
 * entry write, a stored refusal, account hints with a time to live, and the stream aggregator
 * that every new design uses for day counters and month meters.
 */
import { readLatencyMs } from './aws';
import type { Item, Table, Truth, Write } from './dynamo';
import type { Proc, Sim } from './engine';
import type { Container } from './lambda';
import type { Rng } from './rng';
import { type Debit, holderOf, isLimited, type Mode, POOL, type SubAccount, type World, walletOf } from './world';

export interface Ctx {
  sim: Sim;
  db: Table;
  rng: Rng;
  world: World;
  opts: DesignOptions;
}

export interface DesignOptions {
  /** Ledger-entry partition keys (and index keys) per agency: 1 is today's single LEDGER#agc. */
  entryShards: number;
  /** Stream aggregator: flush window per stream shard, and the number of stream shards. */
  aggregatorWindowMs: number;
  streamShards: number;
  /** Partition keys the day counters are spread over. */
  counterShards: number;
  /** How long a container trusts its account hint (mode, limit) without re-reading it. */
  accountHintTtlMs: number;
  /** D: lane chunk in seconds of the lane's recent use, and the share of the reserve a chunk may take at most. */
  chunkSeconds: number;
  chunkReserveShare: number;
  /** D: refill a lane before it runs dry, when it holds less than this many seconds of its use. */
  refillLeadSeconds: number;
  /** D: a lane unused this long is returned to its reserve by the sweeper, which runs this often. */
  laneLeaseMs: number;
  sweepEveryMs: number;
  /** D: lanes per balance the claim probes over. */
  maxLanes: number;
  /** A, B, C: sizes. */
  escrowLanesPerDebitPerSecond: number;
  escrowChunkDebits: number;
  poolShards: number;
  batcherLanes: number;
  batchMax: number;
  batcherPollMs: number;
}

export const defaultDesignOptions: DesignOptions = {
  entryShards: 16,
  aggregatorWindowMs: 1000,
  streamShards: 16,
  counterShards: 16,
  accountHintTtlMs: 1000,
  chunkSeconds: 1.5,
  chunkReserveShare: 0.02,
  refillLeadSeconds: 0.5,
  laneLeaseMs: 1000,
  sweepEveryMs: 500,
  maxLanes: 4096,
  escrowLanesPerDebitPerSecond: 1 / 5,
  escrowChunkDebits: 200,
  poolShards: 99,
  batcherLanes: 16,
  batchMax: 90,
  batcherPollMs: 20,
};

export type Answer =
  | { status: 201 }
  | {
      status: 402;
      code: 'insufficient_credits' | 'credit_limit_reached';
      /** The ground truth at the judging instant (World.truth). */
      truth: Truth;
      /** Credits of the holder set aside where this refusal did not look (lanes, shards, batches). */
      stranded: number;
    }
  | { status: 500 | 503 };

export interface Design<S> {
  readonly name: string;
  readonly title: string;
  /** Creates the design's items for the world's accounts, with their initial credits. */
  setup(ctx: Ctx, initial: Map<string, number>): void;
  newContainer(): S;
  debit(ctx: Ctx, c: Container<S>, req: Debit): Proc<Answer>;
  topUp(ctx: Ctx, holder: string, amount: number): Proc;
  switchMode(ctx: Ctx, sub: SubAccount, mode: Mode): Proc;
  changeLimit(ctx: Ctx, sub: SubAccount, limit: number): Proc;
  /** The month turned (the world's month has already moved). */
  rollover(ctx: Ctx): Proc;
  /** Starts the design's background processes (sweepers, aggregators, writers). */
  start?(ctx: Ctx, fleetStates: () => S[]): void;
}

/** The day a debit counts toward: the model's days are its months (a rollover is both). */
export const dayOf = (month: number) => month;

/** A short stable hash of a request, for shard suffixes. */
export const shardOf = (seq: number, n: number) => (((seq * 2654435761) >>> 0) % n) >>> 0;

const ENTRY_BYTES = 700;

/**
 * A ledger entry put (IF attribute_not_exists), in its sharded partition and index partition;
 * its commit records the debit in the world.
 */
export function entryWrite(ctx: Ctx, req: Debit, holder: string, month: number, shards: number, onCommit?: () => void): Write {
  const s = shardOf(req.seq, shards);
  const pk = shards > 1 ? `LEDGER#agc#${s}` : 'LEDGER#agc';
  const item = ctx.db.fresh(pk, pk, ENTRY_BYTES);
  return {
    item,
    check: (it) => !it.exists,
    apply: () => {
      ctx.world.recordDebit(req, holder, month);
      onCommit?.();
    },
  };
}

/** A credit's entry (top-up, grant): its apply adds the credits to the world's ledger of credits in. */
export function creditEntryWrite(ctx: Ctx, holder: string, amount: number, shards: number, seq: number): Write {
  const pk = shards > 1 ? `LEDGER#agc#${shardOf(seq, shards)}` : 'LEDGER#agc';
  return {
    item: ctx.db.fresh(pk, pk, ENTRY_BYTES),
    check: (it) => !it.exists,
    apply: () => ctx.world.addCredits(holder, amount),
  };
}

/** A refusal remembered under the idempotency key (a PutItem), as today. */
export function* storeRefusal(ctx: Ctx, req: Debit, shards: number): Proc {
  const pk = shards > 1 ? `LEDGER#agc#${shardOf(req.seq, shards)}` : 'LEDGER#agc';
  yield* ctx.db.write({ item: ctx.db.fresh(pk, undefined, 200), check: (it) => !it.exists }, 'request');
}

/** The 402 answer for a refusal, judged against the truth probed when DynamoDB refused. */
export function refusal(
  code: 'insufficient_credits' | 'credit_limit_reached',
  truth: Truth,
  stranded = 0,
): Extract<Answer, { status: 402 }> {
  return { status: 402, code, truth, stranded };
}

export const probeFor = (ctx: Ctx, sub: SubAccount, holder: string, month: number) => () => ctx.world.truth(sub, holder, month);

/** What a container remembers of a sub-account, and when it read it. */
export interface AccountHint {
  mode: Mode;
  limit: number;
  readAt: number;
}

/**
 * The account hint the new designs use: trusted for `accountHintTtlMs`, then read again (a
 * GetItem). A mode switch is answered only after that long, so no debit that arrives after the
 * answer can use the old mode (World.staleModeDebits checks it).
 */
export function* accountHint(ctx: Ctx, hints: Map<number, AccountHint>, sub: SubAccount): Proc<AccountHint> {
  const known = hints.get(sub.id);
  if (known && ctx.sim.now - known.readAt < ctx.opts.accountHintTtlMs) return known;
  yield* ctx.db.read(readLatencyMs(ctx.rng));
  const fresh: AccountHint = { mode: sub.mode, limit: sub.limit, readAt: ctx.sim.now };
  hints.set(sub.id, fresh);
  return fresh;
}

export const hintHolder = (sub: SubAccount, hint: AccountHint) => (hint.mode === 'reselling' ? walletOf(sub) : POOL);
export const hintLimited = (hint: AccountHint) => hint.mode === 'manual' && hint.limit > 0;

/**
 * Switches a sub-account's mode the way the new designs do: one write of the account item, then
 * the answer waits out the account hints' time to live (so no debit that arrives later draws
 * on the old balance). `beforeAnswer` is the design's own work (closing lanes).
 */
export function* switchModeByTtl(ctx: Ctx, sub: SubAccount, mode: Mode, beforeAnswer?: () => Proc): Proc {
  const account = ctx.db.item(`ACCT#${sub.id}`, `ACCOUNT#${sub.id}`, { gsiPk: 'SUBS#agc', bytes: 600 });
  for (;;) {
    const r = yield* ctx.db.write(
      {
        item: account,
        apply: (it) => {
          it.mode = mode === 'reselling' ? 1 : 0;
          sub.mode = mode;
        },
      },
      'background',
    );
    if (r === 'ok') break;
    yield 20 + ctx.rng.uniform() * 40;
  }
  yield ctx.opts.accountHintTtlMs;
  if (beforeAnswer) yield* beforeAnswer();
  sub.switchAnsweredAt = ctx.sim.now;
}

/** The month's LIMIT item of a limited sub-account (pre-created by the month's scheduled job, allowance = limit). */
export function limitItem(ctx: Ctx, sub: SubAccount, month: number): Item {
  return ctx.db.item(`LIMIT#${sub.id}#${month}`, `LIMIT#${sub.id}#${month}`, {
    exists: true,
    month,
    limit: sub.limit,
    allowance: sub.limit,
    bytes: 200,
  });
}

/**
 * The stream aggregator of the new designs: each committed entry lands on a stream shard; each
 * shard's consumer, once per window, writes one idempotent UpdateItem (conditional on its
 * per-shard sequence watermark) per sub-account it saw, to the sub-account's month item that
 * holds its month meter and its day totals, and one for the agency's day total. Those items
 * are spread over `counterShards` partition keys and indexed per account, as today's day
 * counters are.
 */
export class Aggregator {
  private readonly pending: Map<number, { month: number }>[];

  constructor(private readonly ctx: Ctx) {
    this.pending = Array.from({ length: ctx.opts.streamShards }, () => new Map());
  }

  /** An entry of this request committed (call from its apply). */
  saw(req: Debit, month: number): void {
    this.pending[shardOf(req.seq, this.ctx.opts.streamShards)]!.set(req.sub.id, { month });
  }

  start(): void {
    const { sim, opts } = this.ctx;
    this.pending.forEach((_, shard) => {
      // Consumers are not in step: each starts at its own offset within the window.
      sim.after((opts.aggregatorWindowMs * (shard + 0.5)) / this.pending.length, () => this.flush(shard));
    });
  }

  private flush(shard: number): void {
    const { ctx } = this;
    const batch = this.pending[shard]!;
    this.pending[shard] = new Map();
    const counters: Item[] = [];
    for (const [sub, { month }] of batch) {
      // One item per sub-account and month holds its month meter and its day totals.
      counters.push(
        ctx.db.item(`USAGE#${month}#${sub}`, `USAGE#agc#${sub % ctx.opts.counterShards}`, {
          gsiPk: `ACCOUNT#${sub}#USAGE`,
          bytes: 500,
        }),
      );
    }
    if (batch.size) counters.push(ctx.db.item(`USAGE#${dayOf(ctx.world.month)}#agc`, 'USAGE#agc#TOTAL', { bytes: 300 }));
    for (const item of counters) ctx.sim.spawn(ctx.db.write({ item, apply: (it) => it.version++ }, 'background'));
    ctx.sim.after(ctx.opts.aggregatorWindowMs, () => this.flush(shard));
  }
}

/** Which holder a hint sends a debit to and whether a limit applies: from the truth (for setup) or a hint. */
export const truthHolder = (sub: SubAccount) => ({ holder: holderOf(sub), limited: isLimited(sub) });
