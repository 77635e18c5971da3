/**
 * One cell of the table: a design under one load for a few simulated seconds. Requests arrive
 * as a Poisson stream (doubled for a burst), each for a sub-account drawn Zipf-skewed, and go
 * through Lambda (a container each, cold-started past the warm ones) to the design's debit;
 * meanwhile the agency tops up, switches a sub-account's mode, changes limits, and the month
 * turns. Figures are taken over a measurement window after a warm-up: answers by arrival,
 * writes by time, per debit committed in the window.
 */
import { invokeOverheadMs } from './aws';
import { type Answer, type Ctx, type Design, type DesignOptions, defaultDesignOptions } from './design';
import { type DbOptions, type DbStats, shapesReport, Table } from './dynamo';
import { Sim } from './engine';
import { Fleet } from './lambda';
import { Rng, Zipf } from './rng';
import { type Debit, isLimited, type Mode, POOL, type SubAccount, World, walletOf } from './world';

export type Shape = 'pool' | 'wallet' | 'limited';

export interface RunConfig {
  design: Design<any>;
  /** Offered debits per second. */
  rate: number;
  /** pool: one agency pool over `subs` sub-accounts drawn Zipf(s); wallet: one reselling wallet; limited: one manual sub-account with a monthly limit. */
  shape: Shape;
  subs: number;
  zipfS: number;
  seed: number;
  warmupMs: number;
  measureMs: number;
  /** The pool runs near empty: it starts with half a second of spend and top-ups bring `topUpShare` of the spend. */
  lowBalance: boolean;
  topUpShare: number;
  /** Bursts, top-ups, mode switches, limit changes and the month's rollover. */
  events: boolean;
  /** Lambda: concurrency cap, and containers idle this long are reclaimed. */
  cap: number;
  reclaimIdleMs: number;
  lambdaTimeoutMs: number;
  db: DbOptions;
  options: DesignOptions;
  /** Called once the world is built, before it runs (tests attach audits here). */
  onHarness?: (h: Harness) => void;
}

export const defaultDb: DbOptions = {
  holdFraction: 0.6,
  itemWcuPerSecond: 1000,
  partitionKeyWcuPerSecond: 1000,
  burstSeconds: 0.25,
};

export function config(design: RunConfig['design'], over: Partial<RunConfig> = {}): RunConfig {
  return {
    design,
    rate: 1000,
    shape: 'pool',
    subs: 200,
    zipfS: 1,
    seed: 1,
    warmupMs: 1000,
    measureMs: 3000,
    lowBalance: false,
    topUpShare: 0.9,
    events: true,
    cap: 1000,
    reclaimIdleMs: 1500,
    lambdaTimeoutMs: 10_000,
    db: defaultDb,
    options: defaultDesignOptions,
    ...over,
  };
}

export interface Figures {
  design: string;
  shape: Shape;
  rate: number;
  subs: number;
  lowBalance: boolean;
  requests: number;
  ok: number;
  goodputPerSecond: number;
  /** 201s over the requests that deserved one (all but true refusals). */
  goodputShare: number;
  attemptsPerDebit: number;
  wcuPerDebit: number;
  callsPerDebit: number;
  failedCallsPerDebit: number;
  backgroundCallsPerDebit: number;
  hottestItem: { key: string; perDebit: number };
  hottestPk: { key: string; perDebit: number };
  p50: number;
  p99: number;
  dbThrottlesPerSecond: number;
  /** The bucket that throttled most. */
  mostThrottled: string;
  lambdaThrottles: number;
  fiveXxShare: number;
  true402: number;
  false402: number;
  trueLimit: number;
  falseLimit: number;
  strandedMax: number;
  staleModeDebits: number;
  /** Credits created or lost (credits in − debited − held), summed over holders: must be 0. */
  imbalance: number;
  peakContainers: number;
  coldStarts: number;
  events: number;
  wallMs: number;
}

const Q_VALUES = [1, 2, 5];
const Q_WEIGHTS = [0.6, 0.25, 0.15];
export const MEAN_Q = Q_VALUES.reduce((a, q, i) => a + q * Q_WEIGHTS[i]!, 0);

export function subAccountsFor(cfg: Pick<RunConfig, 'shape' | 'subs'>): { mode: Mode; limit: number }[] {
  if (cfg.shape === 'wallet') return [{ mode: 'reselling', limit: 0 }];
  if (cfg.shape === 'limited') return [{ mode: 'manual', limit: 1e12 }];
  return Array.from({ length: cfg.subs }, (_, i) => {
    const rank = i + 1;
    if (rank % 10 === 0) return { mode: 'reselling', limit: 0 };
    // Ranks 12 and 17 have small limits that they reach (true credit_limit_reached); the other
    // limited ones have limits they never reach.
    if (rank % 5 === 2) return { mode: 'manual', limit: rank === 12 || rank === 17 ? 400 : 1e12 };
    return { mode: 'manual', limit: 0 };
  });
}

export interface Harness {
  sim: Sim;
  db: Table;
  world: World;
  ctx: Ctx;
  fleet: Fleet<any>;
}

/** Builds the world, the table and the fleet for a config, with the design's items set up. */
export function harness(cfg: RunConfig): Harness {
  const rng = new Rng(cfg.seed);
  const sim = new Sim();
  const db = new Table(sim, rng.fork(), cfg.db);
  const world = new World(db, subAccountsFor(cfg));
  const ctx: Ctx = { sim, db, rng: rng.fork(), world, opts: cfg.options };
  const spend = cfg.rate * MEAN_Q;
  const zipf = new Zipf(world.subs.length, cfg.zipfS);
  const initial = new Map<string, number>();
  initial.set(POOL, Math.round(cfg.lowBalance ? spend * 0.5 : spend * 1000));
  for (const sub of world.subs) initial.set(walletOf(sub), Math.round(spend * zipf.p(sub.id) * 1000 + 1000));
  cfg.design.setup(ctx, initial);
  const fleet = new Fleet(
    sim,
    rng.fork(),
    { cap: cfg.cap, warm: Math.ceil(cfg.rate * 0.005), reclaimIdleMs: cfg.reclaimIdleMs },
    () => cfg.design.newContainer(),
  );
  return { sim, db, world, ctx, fleet };
}

export function runCell(cfg: RunConfig): Figures {
  const started = performance.now();
  const h = harness(cfg);
  cfg.onHarness?.(h);
  const { sim, db, world, ctx, fleet } = h;
  const rng = new Rng(cfg.seed * 7919 + 17);
  const zipf = new Zipf(world.subs.length, cfg.zipfS);
  const start = cfg.warmupMs;
  const end = cfg.warmupMs + cfg.measureMs;
  const spend = cfg.rate * MEAN_Q;

  cfg.design.start?.(ctx, () => fleet.all.map((c) => c.state));
  if (cfg.events || cfg.lowBalance) scheduleAgency(cfg, h, spend);

  const m = {
    requests: 0,
    ok: 0,
    s5xx: 0,
    lambda429: 0,
    true402: 0,
    false402: 0,
    trueLimit: 0,
    falseLimit: 0,
    strandedMax: 0,
    latencies: [] as number[],
  };
  const record = (req: Debit, a: Answer | 'throttled') => {
    if (req.arrivedAt < start || req.arrivedAt >= end) return;
    m.requests++;
    if (a === 'throttled') m.lambda429++;
    else if (a.status === 201) {
      m.ok++;
      m.latencies.push(sim.now - req.arrivedAt);
    } else if (a.status === 402) {
      const [credits, room] = a.truth;
      if (a.code === 'insufficient_credits') {
        if (credits >= req.q) m.false402++;
        else m.true402++;
      } else if (room >= req.q) m.falseLimit++;
      else m.trueLimit++;
      m.strandedMax = Math.max(m.strandedMax, a.stranded);
    } else m.s5xx++;
  };

  let seq = 0;
  // The load ramps up over the warm-up (a campaign starting), then holds, with a burst.
  const burst = [start + 0.1 * cfg.measureMs, start + 0.2 * cfg.measureMs];
  const rateAt = (t: number) =>
    t < start ? cfg.rate * (0.1 + (0.9 * t) / start) : cfg.events && t >= burst[0]! && t < burst[1]! ? cfg.rate * 2 : cfg.rate;
  const arrive = () => {
    if (sim.now >= end) return;
    const sub = world.subs[zipf.sample(rng)]!;
    const u = rng.uniform();
    const q = u < Q_WEIGHTS[0]! ? Q_VALUES[0]! : u < Q_WEIGHTS[0]! + Q_WEIGHTS[1]! ? Q_VALUES[1]! : Q_VALUES[2]!;
    const req: Debit = { seq: seq++, sub, q, arrivedAt: sim.now, deadline: 0 };
    const overhead = invokeOverheadMs(rng);
    const got = fleet.acquire();
    if (!got) sim.after(overhead, () => record(req, 'throttled'));
    else {
      const { container, coldMs } = got;
      sim.spawn(
        (function* () {
          yield overhead / 2 + coldMs;
          req.deadline = sim.now + cfg.lambdaTimeoutMs - 750;
          const answer = yield* cfg.design.debit(ctx, container, req);
          fleet.release(container);
          yield overhead / 2;
          return answer;
        })(),
        (answer) => record(req, answer),
      );
    }
    sim.after(rng.exponential(1000 / rateAt(sim.now)), arrive);
  };
  sim.after(rng.exponential(1000 / rateAt(0)), arrive);

  sim.after(start, () => {
    db.startMeasuring();
    world.measuring = true;
  });
  let stats: DbStats | undefined;
  let committed = 0;
  sim.after(end, () => {
    stats = db.stats;
    db.measuring = false;
    world.measuring = false;
    committed = world.committedInWindow;
  });
  // Past the end, requests still in flight finish (their answers count); the Lambda timeout bounds them.
  sim.run(end + cfg.lambdaTimeoutMs + 1000);
  const s = stats!;
  if (process.env.SIM_SHAPES)
    console.log(`transactions on reserves, ${cfg.design.name} ${cfg.shape} ${cfg.rate}/s:\n${shapesReport()}`);
  const per = (n: number) => (committed ? n / committed : Number.NaN);
  const hottest = (map: Map<string, number>, prefix = '') => {
    let key = '-';
    let n = 0;
    for (const [k, v] of map) if (v > n) [key, n] = [prefix + k, v];
    return { key, perDebit: per(n) };
  };
  const item = hottest(s.itemWrites);
  const pk = hottest(s.pkWrites);
  const gsi = hottest(s.gsiWrites, 'gsi1:');
  m.latencies.sort((a, b) => a - b);
  const pct = (p: number) => m.latencies[Math.min(m.latencies.length - 1, Math.floor(p * m.latencies.length))] ?? Number.NaN;
  const deserved = m.requests - m.true402 - m.trueLimit;
  return {
    design: cfg.design.name,
    shape: cfg.shape,
    rate: cfg.rate,
    subs: world.subs.length,
    lowBalance: cfg.lowBalance,
    requests: m.requests,
    ok: m.ok,
    goodputPerSecond: m.ok / (cfg.measureMs / 1000),
    goodputShare: deserved ? m.ok / deserved : Number.NaN,
    attemptsPerDebit: per(s.requestTransactions),
    wcuPerDebit: per(s.wcu),
    callsPerDebit: per(s.calls),
    failedCallsPerDebit: per(s.failedCalls),
    backgroundCallsPerDebit: per(s.backgroundCalls),
    hottestItem: item,
    hottestPk: gsi.perDebit > pk.perDebit ? gsi : pk,
    p50: pct(0.5),
    p99: pct(0.99),
    dbThrottlesPerSecond: s.throttles / (cfg.measureMs / 1000),
    mostThrottled: [...s.throttledOn].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '-',
    lambdaThrottles: m.lambda429,
    fiveXxShare: m.requests ? m.s5xx / m.requests : 0,
    true402: m.true402,
    false402: m.false402,
    trueLimit: m.trueLimit,
    falseLimit: m.falseLimit,
    strandedMax: m.strandedMax,
    staleModeDebits: world.staleModeDebits,
    imbalance: [...world.imbalance().values()].reduce((a, b) => a + Math.abs(b), 0),
    peakContainers: fleet.peak,
    coldStarts: fleet.coldStarts,
    events: sim.events,
    wallMs: performance.now() - started,
  };
}

/**
 * The agency's own moves during a run. Top-ups every 500 ms bring what was spent (the pool; the
 * busiest wallet likewise); low balance: the pool starts with half a second of spend and gets
 * 90% of it back every 250 ms. Within the measured window (as shares of it): a burst at twice
 * the rate over 0.1–0.2, the second-busiest sub-account switches to reselling at 0.25 and the
 * tenth back to manual at 0.8, the month turns at 0.45, a limit is raised at 0.6.
 */
function scheduleAgency(cfg: RunConfig, h: Harness, spend: number): void {
  const { sim, ctx, world } = h;
  const d = cfg.design;
  const end = cfg.warmupMs + cfg.measureMs;
  const every = (ms: number, fn: () => void) => {
    const tick = () => {
      if (sim.now >= end) return;
      fn();
      sim.after(ms, tick);
    };
    sim.after(ms, tick);
  };
  if (cfg.lowBalance) every(250, () => sim.spawn(d.topUp(ctx, POOL, Math.round(spend * 0.25 * cfg.topUpShare))));
  else if (cfg.shape !== 'wallet') every(500, () => sim.spawn(d.topUp(ctx, POOL, Math.round(spend * 0.5))));
  if (cfg.shape === 'wallet') every(500, () => sim.spawn(d.topUp(ctx, walletOf(world.subs[0]!), Math.round(spend * 0.5))));
  if (!cfg.events) return;
  const sub = (rank: number): SubAccount | undefined => world.subs[rank - 1];
  const at = (share: number) => cfg.warmupMs + share * cfg.measureMs;
  if (cfg.shape === 'pool') {
    sim.after(at(0.25), () => sim.spawn(d.switchMode(ctx, sub(2)!, 'reselling')));
    sim.after(at(0.8), () => sim.spawn(d.switchMode(ctx, sub(10)!, 'manual')));
    sim.after(at(0.6), () => {
      const s12 = sub(12);
      if (s12 && isLimited(s12)) sim.spawn(d.changeLimit(ctx, s12, s12.limit + 2000));
    });
  }
  if (cfg.shape === 'limited')
    sim.after(at(0.6), () => sim.spawn(d.changeLimit(ctx, world.subs[0]!, world.subs[0]!.limit + 1e6)));
  sim.after(at(0.45), () => {
    world.month++;
    sim.spawn(d.rollover(ctx));
  });
}
