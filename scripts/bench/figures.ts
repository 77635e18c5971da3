/** Small helpers the bench's tables share. */

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** A number right-aligned in `width` columns with `digits` decimals. */
export const cell = (n: number, width = 8, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–').padStart(width);

/** A comma-separated list of positive integers from the environment, else the default. */
export function intList(value: string | undefined, fallback: number[]): number[] {
  if (!value) return fallback;
  const list = value.split(',').map((s) => Number(s.trim()));
  if (!list.length || list.some((n) => !Number.isInteger(n) || n < 1))
    throw new Error(`not a list of positive integers: ${value}`);
  return list;
}
