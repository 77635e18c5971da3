import { AppError } from '#core/errors';
import { formatPrice, type Price } from './money';

/** The refusals of reselling, each with the facts a client needs to correct itself. */

export const priceBelowMinimum = (field: string, minimum: Price, currency: string) =>
  new AppError(
    'price_below_minimum',
    `${field}: below the platform minimum of ${formatPrice(minimum)} ${currency} minor units per credit`,
    [{ field, message: `below the minimum of ${formatPrice(minimum)} per credit` }],
    { extensions: { minimum: formatPrice(minimum), currency } },
  );

export const amountTooSmall = (field: string, minimum: number, currency: string) =>
  new AppError(
    'amount_too_small',
    `${field}: the payment would be below the smallest charge the payment provider accepts (${minimum} ${currency} minor units)`,
    [{ field, message: `the amount must be at least ${minimum}` }],
    { extensions: { minimum: String(minimum), currency } },
  );

export const resellingNotReady = (why: string) =>
  new AppError('reselling_not_ready', `The agency cannot sell credits yet: ${why}`);

export const resellingNotEnabled = () =>
  new AppError('feature_not_enabled', "The agency's plan does not include the reselling feature");
