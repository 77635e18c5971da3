import { metrics } from '../../packages/core/metrics';
import { table } from '../../packages/db/client';
import { sweepIdleLanes } from '../../packages/domain/ledger/lanes';

table();

/** Every minute (an EventBridge schedule): idle lanes give their credits back to their balances. */
export async function handler(): Promise<{ balances: number; closed: number }> {
  try {
    return await sweepIdleLanes();
  } finally {
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  }
}
