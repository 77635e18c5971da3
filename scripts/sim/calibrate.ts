/**
 * Calibration of the conflict model against what the local stack showed (issue 19): today's
 * code in 16 Lambda-like containers, 32 clients each sending its next debit as soon as the
 * last was answered, all on ONE agency pool, with DynamoDB's conflict rule applied in front of
 * DynamoDB Local behind a network-like hold: 82% of debits answered 503, 21–27 billed
 * transaction attempts per successful debit, 8–16 debits/s.
 *
 * Locally the latency of a call is the hold plus DynamoDB Local's own time, and the item is
 * held for the part of it the rule covers; neither was recorded with the figures. So the
 * model's local call latency (median M, lognormal σ 0.25) and its hold fraction φ are searched
 * on a grid for the closest match; φ is what carries over to AWS (the share of a call during
 * which DynamoDB holds the items), M only describes that machine.
 */
import { type Answer, type Ctx, defaultDesignOptions } from './design';
import { today } from './designs/today';
import { Table } from './dynamo';
import { Sim } from './engine';
import type { Container } from './lambda';
import { Rng } from './rng';
import { type Debit, POOL, World, walletOf } from './world';

export const LOCAL_TARGET = { fiveXxShare: 0.82, attemptsPerDebit: [21, 27] as const, debitsPerSecond: [8, 16] as const };

export interface LocalFigures {
  medianMs: number;
  holdFraction: number;
  /** Whether every request in flight held its items (the local layer's rule) rather than only prepared transactions (AWS's). */
  inFlightHolds: boolean;
  fiveXxShare: number;
  attemptsPerDebit: number;
  debitsPerSecond: number;
}

/** Today's design, closed loop, 16 containers and 32 clients on one pool over 100 sub-accounts. */
export function runLocal(
  medianMs: number,
  holdFraction: number,
  seed = 1,
  seconds = 20,
  cancelledAttemptsHold = false,
): LocalFigures {
  const rng = new Rng(seed);
  const sim = new Sim();
  const db = new Table(sim, rng.fork(), {
    holdFraction,
    itemWcuPerSecond: Number.POSITIVE_INFINITY,
    partitionKeyWcuPerSecond: Number.POSITIVE_INFINITY,
    burstSeconds: 1,
    cancelledAttemptsHold,
    twiLatency: (r) => r.lognormal(medianMs, 0.25),
    singleLatency: (r) => r.lognormal(medianMs / 2, 0.25),
  });
  const world = new World(
    db,
    Array.from({ length: 100 }, () => ({ mode: 'manual' as const, limit: 0 })),
  );
  const ctx: Ctx = { sim, db, rng: rng.fork(), world, opts: defaultDesignOptions };
  const initial = new Map<string, number>([[POOL, 1e12]]);
  for (const s of world.subs) initial.set(walletOf(s), 1000);
  today.setup(ctx, initial);

  type S = ReturnType<typeof today.newContainer>;
  const idle: Container<S>[] = Array.from({ length: 16 }, (_, i) => ({
    id: i + 1,
    busy: false,
    alive: true,
    idleSince: 0,
    state: today.newContainer(),
  }));
  const waiting: ((c: Container<S>) => void)[] = [];
  const release = (c: Container<S>) => {
    const next = waiting.shift();
    if (next) next(c);
    else idle.push(c);
  };
  const warmup = 2000;
  const end = warmup + seconds * 1000;
  let ok = 0;
  let answered = 0;
  let fiveXx = 0;
  let seq = 0;
  let started = false;

  const client = function* (): Generator<number | import('./engine').Signal, void, void> {
    while (sim.now < end) {
      const sub = world.subs[rng.int(world.subs.length)]!;
      const req: Debit = { seq: seq++, sub, q: 1, arrivedAt: sim.now, deadline: 0 };
      let container = idle.pop();
      if (!container) {
        const signal = sim.signal();
        let got: Container<S> | undefined;
        waiting.push((c) => {
          got = c;
          signal.notify();
        });
        yield signal;
        container = got!;
      }
      req.deadline = sim.now + 30_000 - 750;
      const answer: Answer = yield* today.debit(ctx, container, req);
      release(container);
      if (sim.now >= warmup && sim.now < end) {
        answered++;
        if (answer.status === 201) ok++;
        else if (answer.status >= 500) fiveXx++;
      }
    }
  };
  sim.after(warmup, () => {
    db.startMeasuring();
    started = true;
  });
  for (let i = 0; i < 32; i++) sim.spawn(client());
  sim.run(end);
  if (!started) throw new Error('calibration did not reach its window');
  return {
    medianMs,
    holdFraction,
    inFlightHolds: cancelledAttemptsHold,
    fiveXxShare: answered ? fiveXx / answered : Number.NaN,
    attemptsPerDebit: ok ? db.stats.requestTransactions / ok : Number.POSITIVE_INFINITY,
    debitsPerSecond: ok / seconds,
  };
}

/** Distance from the local figures (relative, each target weighed alike; ranges count from their middle). */
export function calibrationLoss(f: LocalFigures): number {
  const mid = (r: readonly [number, number]) => (r[0] + r[1]) / 2;
  const rel = (x: number, t: number) => Math.abs(Math.log(Math.max(x, 1e-6) / t));
  return (
    rel(f.fiveXxShare, LOCAL_TARGET.fiveXxShare) +
    rel(f.attemptsPerDebit, mid(LOCAL_TARGET.attemptsPerDebit)) +
    rel(f.debitsPerSecond, mid(LOCAL_TARGET.debitsPerSecond))
  );
}

export const CALIBRATION_GRID = {
  medianMs: [10, 20, 40, 80],
  holdFraction: [0.3, 0.6, 1],
};

/** The grid under both conflict rules; the best fit under each. */
export function calibrate(seconds = 10): { best: LocalFigures; bestAwsRule: LocalFigures; all: LocalFigures[] } {
  const all: LocalFigures[] = [];
  for (const inFlight of [true, false]) {
    for (const m of CALIBRATION_GRID.medianMs) {
      for (const phi of CALIBRATION_GRID.holdFraction) all.push(runLocal(m, phi, 1, seconds, inFlight));
    }
  }
  const bestOf = (xs: LocalFigures[]) => xs.reduce((a, b) => (calibrationLoss(b) < calibrationLoss(a) ? b : a));
  return { best: bestOf(all), bestAwsRule: bestOf(all.filter((f) => !f.inFlightHolds)), all };
}
