import * as z from '#core/zod';
import { cursor, line, trimmedLine } from '../text-fields';
import { PRICE_PATTERN } from './money';

/** Request shapes of the reselling routes and of credit purchases; types are inferred, never restated. */
const currency = z.string().check(z.regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code, e.g. "usd"'));
const price = z.withMeta(
  z
    .string()
    .check(
      z.maxLength(14),
      z.regex(PRICE_PATTERN, 'must be a decimal of minor units with at most 4 decimals, e.g. "1.5" (1.5 cents)'),
    ),
  { example: '15' },
);

export const pricingBody = z.strictObject({
  currency,
  perCreditPrice: price,
  packages: z
    .array(
      z.strictObject({
        // One line: a name a client sees on a checkout page.
        name: trimmedLine(100),
        credits: z.int().check(z.minimum(1), z.maximum(1_000_000_000)),
        /** Minor units for the whole package. */
        price: z.int().check(z.minimum(1), z.maximum(99_999_999)),
      }),
    )
    .check(z.maxLength(20)),
});
export type PricingBody = z.infer<typeof pricingBody>;

/** A package of the offers, or any number of credits at the per-credit price: exactly one of the two. */
export const purchaseBody = z
  .strictObject({
    packageId: z.optional(line(64).check(z.minLength(1))),
    credits: z.optional(z.int().check(z.minimum(1), z.maximum(1_000_000_000))),
  })
  .check(
    z.superRefine((b, ctx) => {
      if ((b.packageId === undefined) === (b.credits === undefined)) {
        ctx.addIssue({
          code: 'custom',
          path: [b.packageId === undefined ? 'packageId' : 'credits'],
          message: 'give either packageId or credits, not both',
        });
      }
    }),
  );
export type PurchaseBody = z.infer<typeof purchaseBody>;

const page = {
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(200)), 50),
  cursor: z.optional(cursor(2048)),
};
export const purchasesQuery = z.strictObject(page);
export type PurchasesQuery = z.infer<typeof purchasesQuery>;

const date = z.iso.date();
export const dashboardQuery = z.strictObject({
  from: z.optional(date),
  to: z.optional(date),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(50)), 20),
  cursor: z.optional(cursor(2048)),
});
export type DashboardQuery = z.infer<typeof dashboardQuery>;
