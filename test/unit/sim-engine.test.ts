import { describe, expect, it } from 'vitest';
import { type DbOptions, Table, type TxResult, type WriteOutcome } from '../../scripts/sim/dynamo';
import { Sim } from '../../scripts/sim/engine';
import { Rng, Zipf } from '../../scripts/sim/rng';

/** A table with fixed latencies (a transaction holds its items from 4 to 16 ms of its 20). */
function fixedTable(over: Partial<DbOptions> = {}) {
  const sim = new Sim();
  const db = new Table(sim, new Rng(1), {
    holdFraction: 0.6,
    itemWcuPerSecond: 1000,
    partitionKeyWcuPerSecond: 1000,
    burstSeconds: 0.1,
    twiLatency: () => 20,
    singleLatency: () => 8,
    ...over,
  });
  db.startMeasuring();
  return { sim, db };
}

describe('the simulation: DynamoDB transactions', () => {
  it('cancels an attempt that touches an item another transaction holds, and lets one through after its commit', () => {
    const { sim, db } = fixedTable();
    const pool = db.item('POOL', 'ACCOUNT#agc', { balance: 10, holds: 'pool' });
    const debit = () => ({
      item: pool,
      check: (it: { balance: number }) => it.balance >= 1,
      apply: (it: { balance: number }) => (it.balance -= 1),
    });
    const results: [string, TxResult][] = [];
    const run = (name: string, at: number) =>
      sim.after(at, () => sim.spawn(db.transact([debit()], 'request'), (r) => results.push([name, r])));
    run('first', 0); // prepares at 4, holds until 16
    run('overlapping', 5); // prepares at 9: held
    run('after', 13); // prepares at 17: free again
    sim.run();
    const byName = Object.fromEntries(results);
    expect(byName.first!.ok).toBe(true);
    expect(byName.overlapping!.ok).toBe(false);
    expect(byName.overlapping!.reasons).toEqual(['conflict']);
    expect(byName.after!.ok).toBe(true);
    expect(pool.balance).toBe(8);
    expect(db.stats.conflicts).toBe(1);
    expect(db.stats.failedCalls).toBe(1);
    // The cancelled attempt paid its prepare (1 WCU); the two commits 2 each.
    expect(db.stats.wcu).toBe(5);
  });

  it('fails a single write on an item inside a transaction in flight (TransactionConflictException)', () => {
    const { sim, db } = fixedTable();
    const account = db.item('ACCT#1', 'ACCOUNT#1');
    let single: WriteOutcome | undefined;
    sim.spawn(db.transact([{ item: account, apply: (it) => it.version++ }], 'request'));
    sim.after(2, () => sim.spawn(db.write({ item: account, apply: (it) => (it.mode = 1) }, 'background'), (r) => (single = r)));
    sim.run();
    expect(single).toBe('conflict'); // lands at 6, inside the hold (4–16)
    expect(account.mode).toBe(0);
  });

  it('throttles one item at 1,000 write units per second', () => {
    const { sim, db } = fixedTable({ partitionKeyWcuPerSecond: Number.POSITIVE_INFINITY });
    const counter = db.item('COUNTER', 'COUNTER');
    let ok = 0;
    let throttled = 0;
    // 2,000 single writes of 1 WCU per second for 2 s, each to the same item.
    for (let i = 0; i < 4000; i++) {
      sim.after(i * 0.5, () =>
        sim.spawn(db.write({ item: counter, apply: (it) => it.version++ }, 'request'), (r) => (r === 'ok' ? ok++ : throttled++)),
      );
    }
    sim.run();
    // 1,000 WCU/s for 2 s, plus the 0.1 s the bucket banks.
    expect(ok).toBeGreaterThanOrEqual(2000);
    expect(ok).toBeLessThanOrEqual(2100);
    expect(throttled).toBe(4000 - ok);
    expect(db.stats.throttledOn.get('item COUNTER')).toBe(throttled);
  });

  it('throttles a partition key at 1,000 write units per second across its items, and a base write when its index key is short', () => {
    const { sim, db } = fixedTable({ itemWcuPerSecond: Number.POSITIVE_INFINITY });
    let ok = 0;
    // Transactional puts (2 WCU) of new items under one key at 1,000/s for 1 s: 2,000 WCU/s offered.
    for (let i = 0; i < 1000; i++) {
      sim.after(i, () =>
        sim.spawn(db.transact([{ item: db.fresh('LEDGER#agc', undefined, 700), check: (it) => !it.exists }], 'request'), (r) => {
          if (r.ok) ok++;
        }),
      );
    }
    sim.run();
    expect(ok).toBeGreaterThanOrEqual(500);
    expect(ok).toBeLessThanOrEqual(560);

    const indexed = fixedTable({ itemWcuPerSecond: Number.POSITIVE_INFINITY });
    let indexedOk = 0;
    // Spread table keys, one index key: the index (1 WCU a copy) throttles the base writes past 1,000/s.
    for (let i = 0; i < 2000; i++) {
      indexed.sim.after(i / 2, () =>
        indexed.sim.spawn(
          indexed.db.transact([{ item: indexed.db.fresh(`E#${i}`, 'LIST#agc', 700), check: (it) => !it.exists }], 'request'),
          (r) => {
            if (r.ok) indexedOk++;
          },
        ),
      );
    }
    indexed.sim.run();
    expect(indexedOk).toBeGreaterThanOrEqual(1000);
    expect(indexedOk).toBeLessThanOrEqual(1120);
    expect([...indexed.db.stats.throttledOn.keys()]).toEqual(['gsi1 LIST#agc']);
  });
});

describe('the simulation: load', () => {
  it('draws Zipf(1) ranks with the harmonic shares', () => {
    const zipf = new Zipf(200, 1);
    const rng = new Rng(7);
    const counts = new Array(200).fill(0);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[zipf.sample(rng)]++;
    const harmonic = Array.from({ length: 200 }, (_, k) => 1 / (k + 1)).reduce((a, b) => a + b, 0);
    expect(zipf.p(1)).toBeCloseTo(1 / harmonic, 12);
    for (const rank of [1, 2, 10, 100]) {
      const expected = draws * zipf.p(rank);
      expect(Math.abs(counts[rank - 1] - expected)).toBeLessThan(4 * Math.sqrt(expected));
    }
    expect(counts[0] / counts[1]).toBeGreaterThan(1.9);
    expect(counts[0] / counts[1]).toBeLessThan(2.1);
  });

  it('is a function of its seed', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const seq = (r: Rng) => Array.from({ length: 5 }, () => r.uniform());
    expect(seq(a)).toEqual(seq(b));
    expect(seq(new Rng(42))).not.toEqual(seq(c));
  });
});
