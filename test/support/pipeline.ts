import { stackIdle } from './idle';
import { stack } from './stack';

/**
 * Returns once nothing written before this call can still become an email, a webhook delivery
 * or a usage rollup on the shared test stack: every stream poller caught up past it and every
 * queue drained (support/idle.ts says how). Use it before asserting that an email or a delivery
 * did NOT happen (or happened only once), and before reading a dashboard or
 * creditsUsedThisMonth after debits, instead of sleeping.
 */
export const pipelineIdle = (timeoutMs = 30_000): Promise<void> => stackIdle(stack, timeoutMs);
