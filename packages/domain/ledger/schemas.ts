import * as z from 'zod';
import { cursor, line, trimmedLine } from '../text-fields';

/** Credits are whole, positive and bounded: usage moves at most a million per call, top-ups and grants a billion. */
const amount = (max: number) => z.int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`);
const quantity = amount(1_000_000);
const credits = amount(1_000_000_000);
const ref = trimmedLine(200);

export const usageTypes = ['ai_response', 'campaign_message'] as const;
export type UsageType = (typeof usageTypes)[number];
/** Credits per unit of each usage type (API.md: 1 per AI response, 1 per campaign message). */
export const creditsPerUnit: Record<UsageType, number> = { ai_response: 1, campaign_message: 1 };

export const usageBody = z.strictObject({
  type: z.enum(usageTypes),
  quantity,
  contactId: ref.optional(),
  campaignId: ref.optional(),
  conversationId: ref.optional(),
});
export type UsageBody = z.infer<typeof usageBody>;

export const topUpBody = z.strictObject({ credits, reference: ref });
export type TopUpBody = z.infer<typeof topUpBody>;

export const grantBody = z.strictObject({ credits, reference: ref.optional(), requestId: ref.optional() });
export type GrantBody = z.infer<typeof grantBody>;

export const entryTypes = ['top_up', 'grant', ...usageTypes] as const;
export type EntryType = (typeof entryTypes)[number];

/** `from`/`to`: a date (YYYY-MM-DD, whole UTC day) or an ISO timestamp. */
const instant = line(40).refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date or ISO timestamp');

export const transactionsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor(2048).optional(),
  subAccountId: line(64).optional(),
  campaignId: ref.optional(),
  contactId: ref.optional(),
  type: z.enum(entryTypes).optional(),
  from: instant.optional(),
  to: instant.optional(),
});
export type TransactionsQuery = z.infer<typeof transactionsQuery>;

export const usageQuery = z.strictObject({ from: instant.optional(), to: instant.optional() });
export type UsageQuery = z.infer<typeof usageQuery>;
