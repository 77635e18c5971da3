import * as z from '#core/zod';

/** Request shapes of auto top-up and low-balance alerts; types are inferred, never restated. */
const level = z.int().check(z.minimum(0), z.maximum(1_000_000_000));

/** `credits` within the platform's bounds for one purchase (checked against the live price in settings.ts). */
export const autoTopUpBody = z.strictObject({
  enabled: z.boolean(),
  threshold: level,
  credits: z.int().check(z.minimum(1), z.maximum(1_000_000_000)),
});
export type AutoTopUpBody = z.infer<typeof autoTopUpBody>;

/** A level below which the agency is emailed; null (or left out) turns that alert off. */
export const alertsBody = z.strictObject({
  poolBelow: z.optional(z.nullable(level)),
  walletBelow: z.optional(z.nullable(level)),
});
export type AlertsBody = z.infer<typeof alertsBody>;
