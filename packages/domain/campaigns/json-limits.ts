import * as z from '#core/zod';

/** Limits on the free-form JSON documents a campaign carries (`settings`, `configuration`). */
export const MAX_JSON_DEPTH = 8;
export const MAX_JSON_BYTES = 32 * 1024;

/**
 * What is wrong with `value` as a bounded JSON object, or undefined. The walk is iterative
 * and stops at the first level past the limit, so a hostile 100 000-deep document costs
 * nothing and cannot overflow the stack (zod's own recursive types, and JSON.stringify, would).
 * The object itself is level 1: `{"a":{"b":1}}` is 2 levels deep.
 */
export function jsonObjectProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'must be a JSON object';
  const stack: Array<[unknown, number]> = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [node, depth] = next;
    if (depth > MAX_JSON_DEPTH) return `nested more than ${MAX_JSON_DEPTH} levels deep`;
    for (const child of Object.values(node as object)) {
      // JSON.parse turns 1e400 into Infinity, which would be stored as null: refuse it instead.
      if (typeof child === 'number' && !Number.isFinite(child)) return 'numbers must be finite';
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  if (Buffer.byteLength(JSON.stringify(value)) > MAX_JSON_BYTES)
    return `larger than ${MAX_JSON_BYTES / 1024} KiB when serialized`;
  return undefined;
}

/**
 * A JSON object field with the limits above; the issue lands on the field, so the 400 names it.
 * Passed through as parsed (not rebuilt by z.record, which silently drops a `__proto__` key).
 */
export const boundedJsonObject = () =>
  z.withMeta(
    z.custom<Record<string, unknown>>().check(
      z.superRefine((value, ctx) => {
        const problem = jsonObjectProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    ),
    {
      type: 'object',
      description: `Any JSON object, at most ${MAX_JSON_DEPTH} levels deep and ${MAX_JSON_BYTES / 1024} KiB serialized`,
    },
  );
