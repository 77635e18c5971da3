/**
 * The fidelity layer's knobs, their defaults and where the numbers come from.
 *
 * Latencies are AWS's as measured from Lambda (github.com/alexdebrie/dynamodb-performance-testing,
 * put-batch-transaction-performance/README.md, 400 calls each): PutItem p50 7.55 ms, p90 11.3;
 * TransactWriteItems of 5 items p50 25.3 ms, p90 30.7; of 25 items p50 32.1. A lognormal
 * through those points: a transaction's median is 23.6 + 0.34 ms per item with σ 0.15, any
 * other call's 7.55 ms with σ 0.32 (reads are given PutItem's figure: nothing closer was
 * measured). Their long tails (p99 ≈ 3× p50) are not modelled.
 */
export interface LatencyModel {
  transactionMs: number;
  transactionPerItemMs: number;
  transactionSigma: number;
  singleMs: number;
  singleSigma: number;
}

export interface FidelityOptions {
  /** Apply the transaction conflict rules (in-flight.ts); off, the proxy only meters (and delays, and throttles if asked). */
  conflicts: boolean;
  /**
   * φ: the share of a write's drawn latency during which its items are held (in flight), so
   * that another transaction touching them is cancelled. DynamoDB holds an item from a
   * transaction's prepare to its commit, a part of the call's latency; HOT-POOL-NOTES.md
   * models φ ∈ {0.3, 0.6, 1}.
   */
  phi: number;
  /** Answer each call no sooner than a latency drawn from `model`; off: as soon as DynamoDB Local does (items then held only while it works). */
  latency: boolean;
  model: LatencyModel;
  /** Refuse writes past `unitsPerSecond` per item and per partition key (table and index), as DynamoDB does. */
  throttle: boolean;
  /** AWS: 1,000 write units per second per partition (bp-partition-key-design.html). */
  unitsPerSecond: number;
  /** Seconds of unused units a bucket may save up (a partition's burst). */
  burstSeconds: number;
  /** Seeds the latency draws, so two runs draw the same sequence. */
  seed: number;
}

export const awsLatency: LatencyModel = {
  transactionMs: 23.6,
  transactionPerItemMs: 0.34,
  transactionSigma: 0.15,
  singleMs: 7.55,
  singleSigma: 0.32,
};

export const defaultFidelity: FidelityOptions = {
  conflicts: true,
  phi: 0.6,
  latency: true,
  model: awsLatency,
  throttle: false,
  unitsPerSecond: 1000,
  burstSeconds: 1,
  seed: 1,
};

export type FidelitySettings = Partial<Omit<FidelityOptions, 'model'>> & { model?: Partial<LatencyModel> };

export function fidelityOptions(settings: FidelitySettings = {}, base: FidelityOptions = defaultFidelity): FidelityOptions {
  const out = { ...base, ...settings, model: { ...base.model, ...settings.model } };
  if (!(out.phi >= 0 && out.phi <= 1)) throw new Error(`fidelity phi: a share between 0 and 1, not ${out.phi}`);
  if (!(out.unitsPerSecond > 0)) throw new Error('fidelity unitsPerSecond: a positive number');
  return out;
}

/**
 * `DYNAMODB_FIDELITY` as `npm start` and the bench read it: unset, empty, `0` or `off` → no
 * fidelity layer; `1` or `on` → the defaults; else comma-separated settings, e.g.
 * `phi=0.3,throttle=on,latency=off,conflicts=off,seed=7,units=1000,tx=23.6,single=7.55`.
 */
export function parseFidelityEnv(value: string | undefined): FidelitySettings | undefined {
  const text = value?.trim().toLowerCase();
  if (!text || text === '0' || text === 'off' || text === 'false') return undefined;
  if (text === '1' || text === 'on' || text === 'true') return {};
  const settings: FidelitySettings = {};
  const model: Partial<LatencyModel> = {};
  for (const part of text.split(',')) {
    const [key, raw = ''] = part.split('=').map((s) => s.trim());
    const number = Number(raw);
    const flag = raw === 'on' || raw === 'true' || raw === '1';
    if (key === 'phi') settings.phi = number;
    else if (key === 'latency') settings.latency = flag;
    else if (key === 'conflicts') settings.conflicts = flag;
    else if (key === 'throttle') settings.throttle = flag;
    else if (key === 'units') settings.unitsPerSecond = number;
    else if (key === 'burst') settings.burstSeconds = number;
    else if (key === 'seed') settings.seed = number;
    else if (key === 'tx') model.transactionMs = number;
    else if (key === 'single') model.singleMs = number;
    else
      throw new Error(
        `DYNAMODB_FIDELITY: unknown setting "${key}" (phi, latency, conflicts, throttle, units, burst, seed, tx, single)`,
      );
    if (!['latency', 'throttle', 'conflicts'].includes(key ?? '') && !Number.isFinite(number))
      throw new Error(`DYNAMODB_FIDELITY: ${key} needs a number`);
  }
  return Object.keys(model).length ? { ...settings, model } : settings;
}

/** A seeded source of latencies (mulberry32, then Box–Muller for the normal draw). */
export function latencySampler(seed: number) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  const lognormal = (median: number, sigma: number) => (sigma > 0 ? median * Math.exp(sigma * normal()) : median);
  return {
    transaction: (m: LatencyModel, items: number) =>
      lognormal(m.transactionMs + m.transactionPerItemMs * items, m.transactionSigma),
    single: (m: LatencyModel) => lognormal(m.singleMs, m.singleSigma),
  };
}
