import { optionalEnv } from '#core/env';

/** Attempts per agency per UTC day (API.md: 5, configurable); past it the agency is emailed once instead. */
export function topUpDailyCap(): number {
  const n = Number(optionalEnv('AUTO_TOP_UP_DAILY_CAP') ?? 5);
  return Number.isSafeInteger(n) && n > 0 ? n : 5;
}

/** Failures in a row (declined, or authentication asked for) that turn auto top-up off. */
export const MAX_FAILURES_IN_A_ROW = 3;
