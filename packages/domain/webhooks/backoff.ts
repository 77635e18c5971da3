/**
 * When to try a failed webhook delivery again: first after about 5 s, then growing, the last
 * attempt about 24 h after the first. SQS holds a message back at most 900 s, so a longer wait
 * is carried as a "not before" time and the message re-enqueued in hops of at most 900 s
 * (`nextSqsDelaySeconds`) until it is due.
 */

/** Seconds to wait after failed attempt n (index n-1); their sum is 85,355 s ≈ 23.7 h. */
export const RETRY_DELAYS_SECONDS = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800, 28_800] as const;

/** The first attempt plus one per retry delay; after this many failures the delivery is `failed`. */
export const MAX_ATTEMPTS = RETRY_DELAYS_SECONDS.length + 1;

/** SQS `DelaySeconds` ceiling. */
export const SQS_MAX_DELAY_SECONDS = 900;

export interface JitterOptions {
  /** Spread each delay uniformly by ± this fraction so endpoints that fail together do not retry together; 0 for none. */
  jitter?: number;
  /** Injectable for tests; defaults to Math.random. */
  random?: () => number;
}

/**
 * Seconds to wait before the next attempt once `attemptsMade` attempts (1-based) have failed,
 * or undefined when none is left. Whole seconds, at least 1.
 */
export function retryDelaySeconds(
  attemptsMade: number,
  { jitter = 0.2, random = Math.random }: JitterOptions = {},
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1)
    throw new RangeError(`attemptsMade must be a positive integer, got ${attemptsMade}`);
  const base = RETRY_DELAYS_SECONDS[attemptsMade - 1];
  if (base === undefined) return undefined;
  return Math.max(1, Math.round(base * (1 + jitter * (2 * random() - 1))));
}

/** The epoch ms at which the next attempt is due (the "not before" the sender stores), or undefined when none is left. */
export function nextAttemptAt(attemptsMade: number, nowMs: number, options?: JitterOptions): number | undefined {
  const delay = retryDelaySeconds(attemptsMade, options);
  return delay === undefined ? undefined : nowMs + delay * 1000;
}

/**
 * The `DelaySeconds` to re-enqueue with when a message is received at `nowMs` but due at
 * `notBeforeMs`: 0 means due now, deliver; otherwise the next hop, at most 900 s. Rounds up,
 * so a message is never delivered early; a clock that runs ahead only costs another hop.
 */
export function nextSqsDelaySeconds(notBeforeMs: number, nowMs: number): number {
  const remaining = Math.ceil((notBeforeMs - nowMs) / 1000);
  return Math.min(SQS_MAX_DELAY_SECONDS, Math.max(0, remaining));
}

/** A whole delay as the hops it takes (e.g. 3600 → [900, 900, 900, 900]); [] for no delay. */
export function sqsHops(delaySeconds: number): number[] {
  const hops: number[] = [];
  for (let left = Math.ceil(delaySeconds); left > 0; left -= SQS_MAX_DELAY_SECONDS)
    hops.push(Math.min(left, SQS_MAX_DELAY_SECONDS));
  return hops;
}
