/**
 * One "Lambda container" of the usage function, as a child process of the bench: it imports
 * the same handler module a container does (with the stack's environment, so that module and
 * its SDK client are this process's own: own hints, own connection) and serves ONE request at
 * a time, as Lambda does. Requests and answers travel over IPC; its DynamoDB traffic is
 * counted here and reported on request.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { lambdaContext } from '../../packages/local/lambda-context';
import type { FromContainer, ToContainer } from './container-protocol';
import { meterDynamo } from './dynamo-meter';

if (!process.send) throw new Error('container.ts runs as a child process of the bench (child_process.fork)');
const send = (message: FromContainer) => process.send!(message);

// The module graph reads its env on import, like a cold start; the client must exist before
// the meter can attach to it, so both come after the environment is in place (it is: fork).
const { dynamo } = await import('../../packages/db/client');
const meter = meterDynamo(dynamo);
const { handler } = (await import('../../functions/http/usage')) as {
  handler: (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyStructuredResultV2>;
};

// The same module instances the handler uses (one module graph per process), to prime them.
const { getAccount } = await import('../../packages/db/items/account');
const { getItem } = await import('../../packages/db/read');
const { rememberAccount } = await import('../../packages/domain/ledger/account-hints');
const { rememberBalance } = await import('../../packages/domain/ledger/balance-state');
const { poolKey, walletKey } = await import('../../packages/db/items/balance');

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
    rememberBalance(balance, await getItem<{ balance: number; version: number }>(balance));
  }
}

let busy = false;
process.on('message', (message: ToContainer) => {
  if (message.type === 'configure') return meter.setConflictRate(message.conflictRate);
  if (message.type === 'take-counts') return send({ type: 'counts', id: message.id, counts: meter.take() });
  if (message.type === 'prime') return void prime(message.accountIds).then(() => send({ type: 'primed', id: message.id }));
  if (busy) throw new Error('a container serves one request at a time');
  busy = true;
  const started = performance.now();
  const before = meter.peek().transactions;
  handler(message.event, lambdaContext('usage'))
    .then((result) => {
      const code =
        result.body && (result.statusCode ?? 200) >= 400 ? (JSON.parse(result.body) as { code?: string }).code : undefined;
      return { status: result.statusCode ?? 200, code };
    })
    .catch((err: Error) => ({ status: 599, code: err.message }))
    .then(({ status, code }) => {
      busy = false;
      const attempts = meter.peek().transactions - before;
      send({ type: 'result', id: message.id, status, code, ms: performance.now() - started, attempts });
    });
});
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
