import { optionalEnv } from '#core/env';
import { RETRY_DELAYS_SECONDS } from '../webhooks/backoff';

/**
 * Auto-recharge settings, from the environment (CDK passes the deployed values; the local
 * runtime and the tests set their own). Read per call: cheap, and the tests' stack sets them
 * before the handlers run.
 */
export const REQUEST_LIFETIME_MS = 24 * 60 * 60 * 1000;

const positiveInt = (name: string, fallback: number) => {
  const n = Number(optionalEnv(name) ?? fallback);
  return Number.isSafeInteger(n) && n > 0 ? n : fallback;
};

/** Requests a sub-account may open per UTC day (API.md: 10, configurable); then the agency is emailed instead. */
export const dailyCap = () => positiveInt('AUTO_RECHARGE_DAILY_CAP', 10);

/** Seconds between attempts (backoff.ts: 5 s … 8 h over ≈ 23.7 h); the test stack shortens them. */
export function retryDelaysSeconds(): readonly number[] {
  const configured = optionalEnv('WEBHOOK_RETRY_DELAYS_SECONDS');
  if (!configured) return RETRY_DELAYS_SECONDS;
  const delays = configured.split(',').map(Number);
  return delays.every((d) => Number.isInteger(d) && d >= 0) ? delays : RETRY_DELAYS_SECONDS;
}

/** The next attempt's time after `attemptsMade` failures, ±20 % jitter (never below 0); undefined when none is left. */
export function nextAttemptAfter(attemptsMade: number, nowMs: number, maxAttempts: number): number | undefined {
  if (attemptsMade >= maxAttempts) return undefined;
  const delays = retryDelaysSeconds();
  const base = delays[Math.min(attemptsMade, delays.length) - 1] ?? 0;
  return nowMs + Math.round(base * 1000 * (0.8 + 0.4 * Math.random()));
}

export const maxAttempts = () => retryDelaysSeconds().length + 1;

/** A receiver has this long to answer completely (API.md: 10 s). */
export const deliveryTimeoutMs = () => positiveInt('WEBHOOK_TIMEOUT_MS', 10_000);

/**
 * http://127.0.0.1, [::1] and localhost as targets: only the local runtime sets it (`npm start`,
 * the tests); the deployed stack never does (test/infra asserts it).
 */
export const allowLoopbackHttp = () => optionalEnv('WEBHOOKS_ALLOW_LOOPBACK_HTTP') === 'true';
