import * as z from 'zod';
import { cursor, line, trimmedLine } from '../text-fields';
import { PRICE_PATTERN } from './money';

/** Request shapes of the reselling routes and of credit purchases; types are inferred, never restated. */
const currency = z.string().regex(/^[a-z]{3}$/, 'must be a lower-case ISO 4217 code, e.g. "usd"');
const price = z
  .string()
  .max(14)
  .regex(PRICE_PATTERN, 'must be a decimal of minor units with at most 4 decimals, e.g. "1.5" (1.5 cents)')
  .meta({ example: '15' });

export const pricingBody = z.strictObject({
  currency,
  perCreditPrice: price,
  packages: z
    .array(
      z.strictObject({
        // One line: a name a client sees on a checkout page.
        name: trimmedLine(100),
        credits: z.int().min(1).max(1_000_000_000),
        /** Minor units for the whole package. */
        price: z.int().min(1).max(99_999_999),
      }),
    )
    .max(20),
});
export type PricingBody = z.infer<typeof pricingBody>;

/** A package of the offers, or any number of credits at the per-credit price: exactly one of the two. */
export const purchaseBody = z
  .strictObject({
    packageId: line(64).min(1).optional(),
    credits: z.int().min(1).max(1_000_000_000).optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.packageId === undefined) === (b.credits === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [b.packageId === undefined ? 'packageId' : 'credits'],
        message: 'give either packageId or credits, not both',
      });
    }
  });
export type PurchaseBody = z.infer<typeof purchaseBody>;

const page = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: cursor(2048).optional(),
};
export const purchasesQuery = z.strictObject(page);
export type PurchasesQuery = z.infer<typeof purchasesQuery>;

const date = z.iso.date();
export const dashboardQuery = z.strictObject({
  from: date.optional(),
  to: date.optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  cursor: cursor(2048).optional(),
});
export type DashboardQuery = z.infer<typeof dashboardQuery>;
