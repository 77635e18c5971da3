import * as z from '#core/zod';
import { entryTypes, type UsageType, usageTypes } from '#db/vocabulary';
import { cursor, line, trimmedLine } from '../text-fields';

/** Credits are whole, positive and bounded: usage moves at most a million per call, top-ups and grants a billion. */
const amount = (max: number) =>
  z.int('must be a whole number').check(z.minimum(1, 'must be at least 1'), z.maximum(max, `must be at most ${max}`));
const quantity = amount(1_000_000);
const credits = amount(1_000_000_000);
const ref = trimmedLine(200);

export { type EntryType, entryTypes, type UsageType, usageTypes } from '#db/vocabulary';
/** Credits per unit of each usage type (API.md: 1 per AI response, 1 per campaign message). */
export const creditsPerUnit: Record<UsageType, number> = { ai_response: 1, campaign_message: 1 };

export const usageBody = z.strictObject({
  type: z.enum(usageTypes),
  quantity,
  contactId: z.optional(ref),
  campaignId: z.optional(ref),
  conversationId: z.optional(ref),
});
export type UsageBody = z.infer<typeof usageBody>;

/** The most events one `POST /v1/usage/batch` takes (Lago and Metronome take 100, Orb 500). */
export const MAX_BATCH_EVENTS = 1_000;

/**
 * One event of a usage batch: a single usage call's body, with the account it is charged to
 * (an unknown one is that event's 404, as on the single route) and its Idempotency-Key (the
 * header's 1 to 255 characters), scoped to the account as the single route scopes it.
 */
export const usageEvent = z.extend(usageBody, {
  accountId: line(64).check(z.minLength(1)),
  idempotencyKey: line(255).check(z.minLength(1)),
});
export type UsageEvent = z.infer<typeof usageEvent>;

/**
 * A malformed event, or one account's key twice, refuses the whole batch (API.md): nothing
 * is charged, and the 400 names the field (`events.7.quantity`). Events that are well formed
 * are judged one by one (their own 201, 402, 404 or 409).
 */
export const usageBatchBody = z.strictObject({
  events: z.array(usageEvent).check(
    z.minLength(1, 'at least one event'),
    z.maxLength(MAX_BATCH_EVENTS, `at most ${MAX_BATCH_EVENTS} events`),
    z.superRefine((events, ctx) => {
      const first = new Map<string, number>();
      events.forEach((e, i) => {
        const scope = JSON.stringify([e.accountId, e.idempotencyKey]);
        const seen = first.get(scope);
        if (seen === undefined) first.set(scope, i);
        else
          ctx.addIssue({ code: 'custom', path: [i, 'idempotencyKey'], message: `repeats events.${seen} (same account and key)` });
      });
    }),
  ),
});
export type UsageBatchBody = z.infer<typeof usageBatchBody>;

export const topUpBody = z.strictObject({ credits, reference: ref });
export type TopUpBody = z.infer<typeof topUpBody>;

export const grantBody = z.strictObject({ credits, reference: z.optional(ref), requestId: z.optional(ref) });
export type GrantBody = z.infer<typeof grantBody>;

/**
 * `from`/`to`: a date (YYYY-MM-DD, whole UTC day) or an ISO timestamp with its offset, a real
 * calendar day, from 1970 to the end of 9999: dates past that print as `+275760-09-13`, no
 * longer a date of the answers' format (Date.parse alone took both, and 2024-02-30 too).
 */
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const LATEST_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
function isInstant(s: string): boolean {
  const m = ISO_INSTANT.exec(s);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const day = new Date(Date.UTC(y, mo - 1, d));
  const ms = Date.parse(s);
  return day.getUTCFullYear() === y && day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && ms >= 0 && ms <= LATEST_MS;
}
export const instant = line(40).check(
  z.refine(isInstant, 'must be a date (YYYY-MM-DD) or an ISO timestamp with an offset, 1970 to 9999'),
);

export const transactionsQuery = z.strictObject({
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(2048)),
  subAccountId: z.optional(line(64)),
  campaignId: z.optional(ref),
  contactId: z.optional(ref),
  type: z.optional(z.enum(entryTypes)),
  from: z.optional(instant),
  to: z.optional(instant),
});
export type TransactionsQuery = z.infer<typeof transactionsQuery>;

export const usageQuery = z.strictObject({ from: z.optional(instant), to: z.optional(instant) });
export type UsageQuery = z.infer<typeof usageQuery>;

/** The agency dashboard: the whole range at once; its sub-accounts ranked, `limit` a page (`cursor`, with the same from/to). */
export const agencyUsageQuery = z.extend(usageQuery, {
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(512)),
});
export type AgencyUsageQuery = z.infer<typeof agencyUsageQuery>;
