import { worker } from '#core/worker';
import { table } from '#db/client';
import { sweepIdleLanes } from '#domain/ledger/lanes';

table();

/**
 * Every minute (an EventBridge schedule): idle lanes give their credits back to their balances.
 * The schedule's event says nothing the sweep needs.
 */
export const handler = worker(() => sweepIdleLanes());
