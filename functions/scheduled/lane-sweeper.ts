import type { Context } from 'aws-lambda';
import { withInvocationLog } from '../../packages/core/logger';
import { metrics } from '../../packages/core/metrics';
import { table } from '../../packages/db/client';
import { sweepIdleLanes } from '../../packages/domain/ledger/lanes';

table();

/**
 * Every minute (an EventBridge schedule): idle lanes give their credits back to their balances.
 * The schedule's event says nothing the sweep needs.
 */
export async function handler(_event: unknown, context: Context): Promise<{ balances: number; closed: number }> {
  return withInvocationLog(context, async () => {
    try {
      return await sweepIdleLanes();
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  });
}
