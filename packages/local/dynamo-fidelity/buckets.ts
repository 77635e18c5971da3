/**
 * Write throughput per item and per partition key, table and index: DynamoDB serves at most
 * 1,000 write units per second per partition ("Best practices for designing and using partition
 * keys effectively", developerguide/bp-partition-key-design.html; "Key range throughput
 * exceeded (hot partitions)", developerguide/throttling-key-range-limit-exceeded-mitigation.html:
 * enforced for both table and GSI, in provisioned and on-demand mode alike). An item lives in
 * one partition, so an item's bucket is the hard limit; DynamoDB may split a hot partition key's
 * items across partitions by sort key (developerguide/burst-adaptive-capacity.html), so the
 * partition key's bucket is the pessimistic case. A token bucket per key: `rate` units a second,
 * saving up at most `rate × burstSeconds`.
 */
export interface Demand {
  bucket: string;
  units: number;
}

export function throughputBuckets(limits: () => { rate: number; burstSeconds: number }) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const level = (key: string, now: number) => {
    const { rate, burstSeconds } = limits();
    const cap = rate * burstSeconds;
    const b = buckets.get(key) ?? { tokens: cap, at: now };
    b.tokens = Math.min(cap, b.tokens + (rate * (now - b.at)) / 1000);
    b.at = now;
    buckets.set(key, b);
    return b;
  };
  /** A bucket untouched for its burst period is full again: forgetting it changes nothing. */
  const forgetFull = (now: number) => {
    const idleMs = limits().burstSeconds * 1000;
    for (const [key, b] of buckets) if (now - b.at >= idleMs) buckets.delete(key);
  };
  return {
    /** Takes every demand if every bucket can give it; else takes nothing and returns the buckets that could not. */
    take(demands: Demand[], now = Date.now()): string[] {
      if (buckets.size > 100_000) forgetFull(now);
      const sums = new Map<string, number>();
      for (const d of demands) sums.set(d.bucket, (sums.get(d.bucket) ?? 0) + d.units);
      const short = [...sums].filter(([key, units]) => level(key, now).tokens < units).map(([key]) => key);
      if (short.length) return short;
      for (const [key, units] of sums) level(key, now).tokens -= units;
      return [];
    },
    clear: () => buckets.clear(),
  };
}
