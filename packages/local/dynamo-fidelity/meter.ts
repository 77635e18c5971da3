/** Counts of what reached "DynamoDB" through the proxy since the last reset, as AWS would bill and throttle it. */
export interface FidelityTotals {
  /** DynamoDB API calls (streams excluded). */
  calls: number;
  byOperation: Record<string, number>;
  /** PutItem, UpdateItem, DeleteItem, BatchWriteItem and TransactWriteItems calls, whatever their outcome. */
  writeCalls: number;
  /** Write calls DynamoDB bills: all but the throttled ones (cancelled and failed conditions are billed). */
  billedWriteAttempts: number;
  transactions: number;
  /** TransactWriteItems calls cancelled, for any reason. */
  cancelled: number;
  /** Write calls refused for a transaction conflict (TransactionCanceledException with TransactionConflict, or TransactionConflictException). */
  conflicts: number;
  /** Write calls whose condition failed (ConditionalCheckFailedException, or a transaction cancelled with ConditionalCheckFailed). */
  conditionFailed: number;
  /** Write calls refused for throughput (ThrottlingException, ProvisionedThroughputExceededException, or a cancellation with ThrottlingError). */
  throttled: number;
  /** TransactGetItems calls cancelled for a conflict. */
  readConflicts: number;
  /**
   * Failed write calls (cancelled, conflicted, condition failed) by what they wrote: the shapes
   * of their items' keys, ids blanked (`LANE#ACCOUNT#…#POOL#… LANE + LEDGER#… …`), to tell which
   * step of a design pays for the failures.
   */
  failedByShape: Record<string, number>;
  /**
   * Every write call by the kinds of item it wrote (their partition keys' first word, `ACCOUNT +
   * LEDGER` for a debit, `ROLLUP` for a rollup's update), to tell the request path's share from
   * the background's.
   */
  writeCallsByKind: Record<string, number>;
  /** Billed write units: table and index. */
  writeUnits: number;
  tableWriteUnits: number;
  indexWriteUnits: number;
  /** Committed writes of table items, and of index entries. */
  itemWrites: number;
  indexWrites: number;
}

export interface HotSpot {
  key: string;
  /** Committed writes. */
  writes: number;
  /** Write attempts that reached it (committed, cancelled, failed conditions). */
  attempts: number;
  /** Billed write units. */
  units: number;
}

export interface FidelityStats {
  /** Since the last reset. */
  seconds: number;
  totals: FidelityTotals;
  /** The most written, by committed writes: items, table partition keys, index partition keys (`<table>/<index> <key>`). */
  hottest: { items: HotSpot[]; tablePartitions: HotSpot[]; indexPartitions: HotSpot[] };
  /**
   * The most written partition keys, table and index, that name no agency or sub-account: keys
   * every tenant's writes share, whose load grows with the platform, not with one agency.
   */
  shared: HotSpot[];
  /** Items held by writes in flight right now. */
  inFlight: number;
}

const zeroTotals = (): FidelityTotals => ({
  calls: 0,
  byOperation: {},
  writeCalls: 0,
  billedWriteAttempts: 0,
  transactions: 0,
  cancelled: 0,
  conflicts: 0,
  conditionFailed: 0,
  throttled: 0,
  readConflicts: 0,
  failedByShape: {},
  writeCallsByKind: {},
  writeUnits: 0,
  tableWriteUnits: 0,
  indexWriteUnits: 0,
  itemWrites: 0,
  indexWrites: 0,
});

export type Scope = 'item' | 'table' | 'index';

export function writeMeter() {
  let started = Date.now();
  let totals = zeroTotals();
  let spots: Record<Scope, Map<string, HotSpot>> = { item: new Map(), table: new Map(), index: new Map() };
  const spot = (scope: Scope, key: string) => {
    const known = spots[scope].get(key);
    if (known) return known;
    const s = { key, writes: 0, attempts: 0, units: 0 };
    spots[scope].set(key, s);
    return s;
  };
  const byWrites = (a: HotSpot, b: HotSpot) => b.writes - a.writes || b.units - a.units;
  const top = (scope: Scope, n: number) => [...spots[scope].values()].sort(byWrites).slice(0, n);
  const shared = (n: number) =>
    [...spots.table.values(), ...spots.index.values()]
      .filter((s) => !namesTenant(s.key))
      .sort(byWrites)
      .slice(0, n);
  return {
    totals: () => totals,
    call(operation: string) {
      totals.calls++;
      totals.byOperation[operation] = (totals.byOperation[operation] ?? 0) + 1;
    },
    /** A write call, whatever its outcome, counted by the kinds of item it wrote. */
    writeCall(keys: string[]) {
      const kind = [...new Set(keys.map(itemKind))].sort().join(' + ');
      totals.writeCallsByKind[kind] = (totals.writeCallsByKind[kind] ?? 0) + 1;
    },
    /** A failed write call, named by the shapes of the keys it wrote. */
    failedCall(keys: string[]) {
      const shape = [...new Set(keys.map(keyShape))].sort().join(' + ');
      totals.failedByShape[shape] = (totals.failedByShape[shape] ?? 0) + 1;
    },
    /** A write (committed or not) to an item or partition: `committed` counts it as a write, else only as an attempt. */
    write(scope: Scope, key: string, units: number, committed: boolean) {
      const s = spot(scope, key);
      s.attempts++;
      s.units += units;
      if (committed) s.writes++;
      if (scope === 'item') return;
      totals.writeUnits += units;
      if (scope === 'table') {
        totals.tableWriteUnits += units;
        if (committed) totals.itemWrites++;
      } else {
        totals.indexWriteUnits += units;
        if (committed) totals.indexWrites++;
      }
    },
    snapshot(n: number, inFlight: number): FidelityStats {
      return {
        seconds: (Date.now() - started) / 1000,
        totals: {
          ...totals,
          byOperation: { ...totals.byOperation },
          failedByShape: { ...totals.failedByShape },
          writeCallsByKind: { ...totals.writeCallsByKind },
        },
        hottest: { items: top('item', n), tablePartitions: top('table', n), indexPartitions: top('index', n) },
        shared: shared(n),
        inFlight,
      };
    },
    reset() {
      started = Date.now();
      totals = zeroTotals();
      spots = { item: new Map(), table: new Map(), index: new Map() };
    },
  };
}
/** Whether a partition key names an agency or a sub-account (their ids: core/ids.ts). */
const namesTenant = (key: string) => /\b(agc|sub)_[0-9a-z]+/.test(key);

/** An item's kind: the first word of its partition key (`<table> <pk> <sk>` → `ACCOUNT`, `LEDGER`, `ROLLUP`…). */
export const itemKind = (id: string): string => (id.split(' ')[1] ?? '').split('#')[0] ?? '';

/**
 * An item's id (`<table> <pk> <sk>`) with its ids and numbers blanked and only the first part of
 * its sort key kept (entries' sort keys hold idempotency keys): `ACCOUNT#…#POOL POOL`.
 */
export function keyShape(id: string): string {
  const [, pk = '', sk = ''] = id.split(' ');
  const blank = (k: string) =>
    k
      .replace(/\b[a-z]{2,5}_[0-9a-z]{10,}/g, '…')
      .replace(/\b\d{4}-\d{2}(-\d{2})?\b/g, 'date')
      .replace(/#\d+\b/g, '#n');
  return `${blank(pk)} ${blank(sk.split('#')[0] ?? '')}`;
}

export type WriteMeter = ReturnType<typeof writeMeter>;
