import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { stack } from './stack';
import { getRaw, testDb } from './table';

export interface RawEntry {
  id: string;
  credits: number;
  balanceAfter: number;
  balanceKind: 'pool' | 'wallet';
  accountId: string;
  type: string;
  idempotencyKey: string;
}

/** Every ledger entry of an agency, read straight from the table. */
export async function entriesOf(agencyId: string): Promise<RawEntry[]> {
  const out: RawEntry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await testDb.send(
      new QueryCommand({
        TableName: stack.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `LEDGER#${agencyId}` },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    // Refusals remembered under idempotency keys live in the same partition; they moved nothing.
    out.push(...((page.Items ?? []).filter((i) => i.kind === 'ledger_entry') as RawEntry[]));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

export async function poolBalance(agencyId: string): Promise<number> {
  return ((await getRaw(`ACCOUNT#${agencyId}`, 'POOL'))?.balance as number | undefined) ?? 0;
}

export async function walletBalance(subAccountId: string): Promise<number> {
  return ((await getRaw(`ACCOUNT#${subAccountId}`, 'WALLET'))?.balance as number | undefined) ?? 0;
}

/** Sum of the entries that moved one balance: the pool, or one sub-account's wallet. */
export function sumFor(entries: RawEntry[], balance: { pool: true } | { wallet: string }): number {
  return entries
    .filter((e) => ('pool' in balance ? e.balanceKind === 'pool' : e.balanceKind === 'wallet' && e.accountId === balance.wallet))
    .reduce((n, e) => n + e.credits, 0);
}
