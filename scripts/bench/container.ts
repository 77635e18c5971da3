/**
 * What the bench adds to each "Lambda container" of the usage function (packages/local/
 * lambda-container.ts loads it next to functions/http/usage.ts, in the same module graph): a
 * meter on the container's own DynamoDB client, the attempts each invocation made, and hint
 * priming. Its calls are reached through FunctionPool.call (fleet.ts).
 */
import type { ContainerExtension } from '#local/lambda-protocol';
import { meterDynamo } from './dynamo-meter';

// The client must exist before the meter can attach to it: the container's environment is in place (fork).
const { dynamo } = await import('#db/client');
const meter = meterDynamo(dynamo);

// The same module instances the handler uses (one module graph per process), to prime them.
const { getAccount } = await import('#db/items/account');

const { rememberAccount } = await import('#domain/ledger/account-hints');
const { rememberBalance } = await import('#domain/ledger/balance-state');
const { getBalance, poolKey, walletKey } = await import('#db/items/balance');

/**
 * Leaves this container's hints as a container that has served these accounts would hold
 * them (the account as it is now, and the balance it debits), with reads instead of debits,
 * so warming many containers for many accounts is quick. The balances' versions go stale at
 * once, as they would after any other container's debit.
 */
async function prime(accountIds: string[]): Promise<void> {
  for (const id of accountIds) {
    const account = await getAccount(id);
    if (!account) throw new Error(`no account ${id}`);
    const hint = rememberAccount(account);
    const balance = hint.creditMode === 'reselling' ? walletKey(id) : poolKey(hint.agencyId);
    rememberBalance(balance, await getBalance(balance));
  }
}

export const extension: ContainerExtension = {
  calls: {
    configure: (conflictRate: number) => meter.setConflictRate(conflictRate),
    takeCounts: () => meter.take(),
    prime,
  },
  /** The TransactWriteItems attempts one invocation made. */
  measure: () => {
    const before = meter.peek().transactions;
    return () => ({ attempts: meter.peek().transactions - before });
  },
};
