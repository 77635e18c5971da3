/**
 * DynamoDB as the model sees it: items that a transaction holds between its prepare and its
 * commit (an attempt that touches a held item is cancelled, and billed), write-unit token
 * buckets per item, per table partition key and per index partition key (a throttled index
 * throttles the base write, [F3] in aws.ts), latencies from aws.ts, and counters of every
 * write call, failed call, unit and item write. It also keeps the ground truth of credits:
 * each item says whose credits its `balance` holds, and every committed change is tallied,
 * so a design can be checked for credits created, lost or hidden.
 */
import { singleWriteLatencyMs, standardUnits, transactionalUnits, twiLatencyMs } from './aws';
import type { Proc, Sim } from './engine';
import type { Rng } from './rng';

export interface Item {
  key: string;
  /** Table partition key. */
  pk: string;
  /** gsi1 partition key, when the item is projected there (ALL projection: every write copies). */
  gsiPk?: string;
  bytes: number;
  exists: boolean;
  /** Credits this item holds (a pool, a wallet, a reserve, a lane, a shard). */
  balance: number;
  /** Monthly-limit allowance this item holds (a meter's remaining room, a LIMIT item, a lane's escrow). */
  allowance: number;
  version: number;
  /** A lane's owning container (0: none). */
  owner: number;
  /** The month a meter, LIMIT item or lane counts. */
  month: number;
  /** A reserve's "collapsed" flag; a lane's "closed". */
  flag: boolean;
  /** An account's credit mode (0 manual, 1 reselling) and monthly limit (0: none). */
  mode: number;
  limit: number;
  lastUsed: number;
  /** A lane registry. */
  set?: Set<number>;
  /** Whose credits `balance` counts toward ('pool', 'wallet:3', …): the ground truth. */
  holds?: string;
  /** Held by a transaction until this time (prepare → commit). */
  heldUntil: number;
  /** The write-unit buckets this item draws on (item, table pk, index pk), found once. */
  buckets?: [Bucket | undefined, Bucket, Bucket | undefined];
}

export type Snapshot = Readonly<Omit<Item, 'set' | 'heldUntil' | 'buckets'>> & { lanes?: number[] };

export interface Write {
  item: Item;
  /** The condition, evaluated at prepare against the item as it is. */
  check?: (it: Item) => boolean;
  /** The change, applied at commit. A ConditionCheck has none (it still costs a write). */
  apply?: (it: Item) => void;
  /**
   * Whether this write copies to the index (default: whenever the item has a gsiPk, as with an
   * ALL projection). A sparse KEYS_ONLY index is written only when its key attribute changes.
   */
  indexed?: boolean;
}

const copiesToIndex = (w: Write) => Boolean(w.item.gsiPk) && w.indexed !== false;

export type Reason = 'none' | 'condition' | 'conflict';
/** [credits the holder truly has, limit room truly left] (World.truth). */
export type Truth = readonly [number, number];
const NO_TRUTH: Truth = [Number.NaN, Number.NaN];

export interface TxResult {
  ok: boolean;
  throttled: boolean;
  /** Per write, in order (all 'none' when throttled). */
  reasons: Reason[];
  /** Per write: the item as it was when its condition failed (ReturnValuesOnConditionCheckFailure: ALL_OLD). */
  seen: (Snapshot | undefined)[];
  /** The caller's probe of the ground truth, taken at the instant DynamoDB judged the call. */
  truth: Truth;
}

export type WriteOutcome = 'ok' | 'condition' | 'conflict' | 'throttled';

/** Who made a write call: a request, or background work (sweeper, aggregator, writer, admin). */
export type Origin = 'request' | 'background';

export interface DbStats {
  calls: number;
  backgroundCalls: number;
  failedCalls: number;
  conflicts: number;
  conditionFailures: number;
  throttles: number;
  wcu: number;
  /** TransactWriteItems attempts made on the request path. */
  requestTransactions: number;
  reads: number;
  /** Throttled calls by the bucket that refused them. */
  throttledOn: Map<string, number>;
  /** Item writes (committed, or billed by a failed attempt) per item key, table pk and index pk. */
  itemWrites: Map<string, number>;
  pkWrites: Map<string, number>;
  gsiWrites: Map<string, number>;
}

const newStats = (): DbStats => ({
  calls: 0,
  backgroundCalls: 0,
  failedCalls: 0,
  conflicts: 0,
  conditionFailures: 0,
  throttles: 0,
  wcu: 0,
  requestTransactions: 0,
  reads: 0,
  throttledOn: new Map(),
  itemWrites: new Map(),
  pkWrites: new Map(),
  gsiWrites: new Map(),
});

export interface DbOptions {
  /** Share of a transaction's latency during which it holds its items (prepare → commit), centred. */
  holdFraction: number;
  /** Write units/s per item and per partition key (table and index). */
  itemWcuPerSecond: number;
  partitionKeyWcuPerSecond: number;
  /** Seconds of capacity a bucket can bank (the tolerance above the per-second rate). */
  burstSeconds: number;
  /**
   * Whether a cancelled attempt still holds its other items until it is answered (a stricter
   * rule than AWS's, where only a prepared transaction holds: kept for calibrating against a
   * local layer that marks every request in flight).
   */
  cancelledAttemptsHold?: boolean;
  /**
   * Write units per KB per item a cancelled or condition-failed attempt pays (its prepare). Not
   * published for transactions [E]; a failed conditional single write is billed.
   */
  cancelledUnitsPerKb?: number;
  /** Latency of a transaction of n items, and of a single write (replaceable for calibration). */
  twiLatency?: (rng: Rng, n: number) => number;
  singleLatency?: (rng: Rng) => number;
}

interface Bucket {
  tokens: number;
  t: number;
  /** Units per millisecond, and the most it can bank. */
  rate: number;
  depth: number;
  /** What it limits ('item RES#pool', 'pk LEDGER#agc', 'gsi1 LANES#pool'). */
  name: string;
}

export class Table {
  readonly items = new Map<string, Item>();
  stats: DbStats = newStats();
  /** Counters only run while measuring (after the warm-up). */
  measuring = false;
  /** Ground truth: committed credits per holder, summed over every item. */
  readonly credits = new Map<string, number>();
  /** Called after every commit (tests audit conservation here). */
  onCommit?: () => void;
  private readonly pkBuckets = new Map<string, Bucket>();
  private readonly gsiBuckets = new Map<string, Bucket>();
  private transientSeq = 0;

  constructor(
    private readonly sim: Sim,
    private readonly rng: Rng,
    readonly opts: DbOptions,
  ) {}

  /** The item under this key (created, not yet existing, on first use). */
  item(key: string, pk: string, init: Partial<Item> = {}): Item {
    let it = this.items.get(key);
    if (!it) {
      it = {
        key,
        pk,
        bytes: 300,
        exists: false,
        balance: 0,
        allowance: 0,
        version: 0,
        owner: 0,
        month: 0,
        flag: false,
        mode: 0,
        limit: 0,
        lastUsed: 0,
        heldUntil: 0,
        ...init,
      };
      this.items.set(key, it);
      if (it.holds && it.balance) this.credits.set(it.holds, (this.credits.get(it.holds) ?? 0) + it.balance);
    }
    return it;
  }

  /** A new item never seen before (a ledger entry, a refusal): not kept, it cannot be contended. */
  fresh(pk: string, gsiPk: string | undefined, bytes: number): Item {
    return {
      key: `~${this.transientSeq++}`,
      pk,
      gsiPk,
      bytes,
      exists: false,
      balance: 0,
      allowance: 0,
      version: 0,
      owner: 0,
      month: 0,
      flag: false,
      mode: 0,
      limit: 0,
      lastUsed: 0,
      heldUntil: 0,
    };
  }

  credit(holder: string): number {
    return this.credits.get(holder) ?? 0;
  }

  /**
   * One TransactWriteItems. At its prepare (the start of its hold, centred in its latency)
   * DynamoDB admits it against the buckets (else the whole call is throttled, nothing
   * consumed), then cancels it if any item is held by another transaction (TransactionConflict)
   * or a condition fails; a cancelled attempt pays its prepare writes (1 unit per KB per item).
   * A transaction that passes holds its items until its commit, when the changes apply.
   */
  *transact(writes: Write[], origin: Origin, probe?: () => Truth): Proc<TxResult> {
    // DynamoDB refuses a transaction that names one item twice (ValidationException): a design that does is wrong.
    if (new Set(writes.map((w) => w.item)).size !== writes.length) {
      throw new Error(`a transaction names one item twice: ${writes.map((w) => w.item.key).join(', ')}`);
    }
    const latency = (this.opts.twiLatency ?? twiLatencyMs)(this.rng, writes.length);
    const hold = latency * this.opts.holdFraction;
    const prepareAt = (latency - hold) / 2;
    yield prepareAt;
    const now = this.sim.now;
    this.countCall(origin);
    if (origin === 'request' && this.measuring) this.stats.requestTransactions++;
    const truth = probe ? probe() : NO_TRUTH;

    const units = writes.map((w) => transactionalUnits(w.item.bytes));
    const shape = this.measuring && SHAPES ? shapeOf(writes) : undefined;
    if (!this.admit(writes, units, true)) {
      if (shape) tally(shape, 'throttled');
      this.countFailure('throttled');
      yield latency - prepareAt;
      const none = writes.map(() => 'none' as const);
      return { ok: false, throttled: true, reasons: none, seen: writes.map(() => undefined), truth };
    }
    let failed = false;
    const reasons: Reason[] = [];
    const seen: (Snapshot | undefined)[] = [];
    for (const w of writes) {
      if (w.item.heldUntil > now) {
        reasons.push('conflict');
        seen.push(undefined);
        failed = true;
      } else if (w.check && !w.check(w.item)) {
        reasons.push('condition');
        seen.push(snapshot(w.item));
        failed = true;
      } else {
        reasons.push('none');
        seen.push(undefined);
      }
    }
    if (failed) {
      if (this.opts.cancelledAttemptsHold) {
        for (const w of writes) if (w.item.heldUntil <= now) w.item.heldUntil = now + hold;
      }
      this.consume(
        writes,
        writes.map((w) => standardUnits(w.item.bytes) * (this.opts.cancelledUnitsPerKb ?? 1)),
        false,
      );
      this.countFailure(reasons.includes('conflict') ? 'conflict' : 'condition');
      if (shape) tally(shape, reasons.includes('conflict') ? 'conflict' : 'condition');
      yield latency - prepareAt;
      return { ok: false, throttled: false, reasons, seen, truth };
    }
    for (const w of writes) w.item.heldUntil = now + hold;
    if (shape) tally(shape, 'ok');
    this.consume(writes, units, true);
    yield hold;
    for (const w of writes) this.applyWrite(w);
    this.onCommit?.();
    yield latency - prepareAt - hold;
    return { ok: true, throttled: false, reasons, seen, truth };
  }

  /**
   * One PutItem/UpdateItem: applied at once at its midpoint unless throttled, unless the item
   * is in a transaction in flight (TransactionConflictException, [F1]) or its condition fails.
   */
  *write(w: Write, origin: Origin): Proc<WriteOutcome> {
    const latency = (this.opts.singleLatency ?? singleWriteLatencyMs)(this.rng);
    yield latency / 2;
    this.countCall(origin);
    const units = [standardUnits(w.item.bytes)];
    let outcome: WriteOutcome = 'ok';
    if (!this.admit([w], units, true)) outcome = 'throttled';
    else if (w.item.heldUntil > this.sim.now) outcome = 'conflict';
    else if (w.check && !w.check(w.item)) outcome = 'condition';
    if (outcome === 'ok') {
      this.consume([w], units, true);
      this.applyWrite(w);
      this.onCommit?.();
    } else {
      if (outcome !== 'throttled') this.consume([w], units, false);
      this.countFailure(outcome);
    }
    yield latency / 2;
    return outcome;
  }

  /** Reads (GetItem, BatchGetItem, Query): latency only; they take no write capacity. */
  *read(latencyMs: number): Proc {
    if (this.measuring) this.stats.reads++;
    yield latencyMs;
  }

  /** A write call to another service (a Kinesis PutRecord): counted as a write call, no units. */
  countExternalCall(origin: Origin): void {
    this.countCall(origin);
  }

  startMeasuring(): void {
    this.stats = newStats();
    this.measuring = true;
  }

  private applyWrite(w: Write): void {
    const it = w.item;
    const before = it.balance;
    w.apply?.(it);
    it.exists = true;
    if (it.balance < 0 || it.allowance < 0) {
      throw new Error(`${it.key} went below zero (balance ${it.balance}, allowance ${it.allowance}): a missing condition`);
    }
    if (it.holds && it.balance !== before) this.credits.set(it.holds, (this.credits.get(it.holds) ?? 0) + it.balance - before);
  }

  private countCall(origin: Origin): void {
    if (!this.measuring) return;
    this.stats.calls++;
    if (origin === 'background') this.stats.backgroundCalls++;
  }

  private countFailure(kind: 'throttled' | 'conflict' | 'condition'): void {
    if (!this.measuring) return;
    this.stats.failedCalls++;
    if (kind === 'throttled') this.stats.throttles++;
    else if (kind === 'conflict') this.stats.conflicts++;
    else this.stats.conditionFailures++;
  }

  /** Whether every bucket these writes draw on has their units (and the index copies' units). */
  private admit(writes: Write[], units: number[], withIndex: boolean): boolean {
    const now = this.sim.now;
    // Two writes of one transaction never share an item, but may share a partition key: sum per bucket.
    const need = new Map<Bucket, number>();
    writes.forEach((w, i) => {
      const [ib, pb, gb] = this.bucketsOf(w.item);
      if (ib) need.set(ib, (need.get(ib) ?? 0) + units[i]!);
      need.set(pb, (need.get(pb) ?? 0) + units[i]!);
      if (gb && withIndex && copiesToIndex(w)) need.set(gb, (need.get(gb) ?? 0) + standardUnits(w.item.bytes));
    });
    for (const [b, n] of need) {
      if (refill(b, now) < n) {
        if (this.measuring) this.stats.throttledOn.set(b.name, (this.stats.throttledOn.get(b.name) ?? 0) + 1);
        return false;
      }
    }
    return true;
  }

  private consume(writes: Write[], units: number[], withIndex: boolean): void {
    const now = this.sim.now;
    writes.forEach((w, i) => {
      const n = units[i]!;
      const [ib, pb, gb] = this.bucketsOf(w.item);
      if (ib) {
        refill(ib, now);
        ib.tokens -= n;
      }
      refill(pb, now);
      pb.tokens -= n;
      let total = n;
      const indexed = withIndex && gb && copiesToIndex(w);
      if (indexed) {
        const copy = standardUnits(w.item.bytes);
        refill(gb, now);
        gb.tokens -= copy;
        total += copy;
      }
      if (!this.measuring) return;
      const s = this.stats;
      s.wcu += total;
      if (ib) s.itemWrites.set(w.item.key, (s.itemWrites.get(w.item.key) ?? 0) + 1);
      s.pkWrites.set(w.item.pk, (s.pkWrites.get(w.item.pk) ?? 0) + 1);
      if (indexed) s.gsiWrites.set(w.item.gsiPk!, (s.gsiWrites.get(w.item.gsiPk!) ?? 0) + 1);
    });
  }

  private bucketsOf(it: Item): [Bucket | undefined, Bucket, Bucket | undefined] {
    if (it.buckets) return it.buckets;
    const perKey = (map: Map<string, Bucket>, key: string, name: string) => {
      let b = map.get(key);
      if (!b) {
        b = newBucket(this.opts.partitionKeyWcuPerSecond, this.opts.burstSeconds, this.sim.now, name);
        map.set(key, b);
      }
      return b;
    };
    const found: [Bucket | undefined, Bucket, Bucket | undefined] = [
      it.key.startsWith('~')
        ? undefined
        : newBucket(this.opts.itemWcuPerSecond, this.opts.burstSeconds, this.sim.now, `item ${it.key}`),
      perKey(this.pkBuckets, it.pk, `pk ${it.pk}`),
      it.gsiPk ? perKey(this.gsiBuckets, it.gsiPk, `gsi1 ${it.gsiPk}`) : undefined,
    ];
    // Entries are not kept (a fresh one each time): only kept items remember their buckets.
    if (!it.key.startsWith('~')) it.buckets = found;
    return found;
  }
}

const newBucket = (perSecond: number, burstSeconds: number, now: number, name: string): Bucket => ({
  tokens: perSecond * burstSeconds,
  t: now,
  rate: perSecond / 1000,
  depth: perSecond * burstSeconds,
  name,
});

/** Brings a bucket up to now; returns its tokens. */
function refill(b: Bucket, now: number): number {
  if (now > b.t) {
    b.tokens = Math.min(b.depth, b.tokens + (now - b.t) * b.rate);
    b.t = now;
  }
  return b.tokens;
}

export function snapshot(it: Item): Snapshot {
  const { set, heldUntil: _held, buckets: _buckets, ...rest } = it;
  return set ? { ...rest, lanes: [...set] } : rest;
}

/**
 * `SIM_SHAPES=1`: what the transactions on reserve items were, by the kinds of items they wrote
 * (a claim: RES + LANE×n + LEDGER…) and how they ended, printed per cell (shapesReport). A tool
 * for reading a design's hot item, off by default.
 */
const SHAPES = Boolean(process.env.SIM_SHAPES);
const shapes = new Map<string, Record<string, number>>();
function shapeOf(writes: Write[]): string | undefined {
  if (!writes.some((w) => w.item.key.startsWith('RES#'))) return undefined;
  const kinds = new Map<string, number>();
  for (const w of writes) {
    // Entries are keyed by their request (`~<n>`): one kind.
    const kind = (w.item.key.split('#')[0] as string).replace(/\d+/g, '') || 'ENTRY';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return [...kinds]
    .map(([k, n]) => (n > 1 ? `${k}×${n > 4 ? '5+' : n}` : k))
    .sort()
    .join('+');
}
function tally(shape: string, outcome: string): void {
  const known = shapes.get(shape) ?? {};
  known[outcome] = (known[outcome] ?? 0) + 1;
  shapes.set(shape, known);
}
/** The tallies since the last report, most attempted first (and cleared). */
export function shapesReport(): string {
  const rows = [...shapes]
    .map(([shape, o]) => ({ shape, o, n: Object.values(o).reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.n - a.n)
    .map(
      (r) =>
        `  ${r.shape}: ${r.n} (${Object.entries(r.o)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`,
    );
  shapes.clear();
  return rows.join('\n');
}
