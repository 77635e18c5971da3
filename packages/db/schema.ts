/**
 * The single table, defined once. CDK builds the deployed table from `tableDefinition`, the
 * local runtime and the tests create theirs with `createTableInput`, and every item key in
 * the code comes from the `keys` builders below: the access patterns are named here.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Generic overloaded index: "list X of Y" patterns. */
  indexes: [{ name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }],
  timeToLiveAttribute: 'ttl',
  streamView: 'NEW_AND_OLD_IMAGES',
} as const;

export type Key = { pk: string; sk: string };

export const keys = {
  /** An agency or a sub-account: profile, plan/features, status. */
  account: (accountId: string): Key => ({ pk: `ACCOUNT#${accountId}`, sk: 'ACCOUNT' }),
  /** gsi1 partition listing an agency's sub-accounts, oldest first (ids are time ordered). */
  subAccountsOf: (agencyId: string) => ({ gsi1pk: `AGENCY#${agencyId}#SUBS` }),
  subAccountIndex: (agencyId: string, subAccountId: string) => ({
    gsi1pk: `AGENCY#${agencyId}#SUBS`,
    gsi1sk: subAccountId,
  }),

  user: (userId: string): Key => ({ pk: `USER#${userId}`, sk: 'USER' }),
  /** Uniqueness guard and login lookup: one item per lower-cased email. */
  email: (email: string): Key => ({ pk: `EMAIL#${email.toLowerCase()}`, sk: 'EMAIL' }),

  /** API keys are found by the hash of the presented key; listed per agency on gsi1. */
  apiKeyByHash: (keyHash: string): Key => ({ pk: `APIKEY#${keyHash}`, sk: 'APIKEY' }),
  apiKeysOf: (agencyId: string) => ({ gsi1pk: `AGENCY#${agencyId}#APIKEYS` }),
  apiKeyIndex: (agencyId: string, apiKeyId: string) => ({ gsi1pk: `AGENCY#${agencyId}#APIKEYS`, gsi1sk: apiKeyId }),

  /** Revoked assist tokens by jti; the item expires (ttl) when the token would have. */
  revokedToken: (jti: string): Key => ({ pk: `REVOKED#${jti}`, sk: 'REVOKED' }),

  /** Outbox: a side effect (email, webhook) committed with the change that causes it. */
  outbox: (eventId: string): Key => ({ pk: `OUTBOX#${eventId}`, sk: 'OUTBOX' }),

  /** The agency's shared credit pool: balance, version (optimistic concurrency), totals. */
  pool: (agencyId: string): Key => ({ pk: `ACCOUNT#${agencyId}`, sk: 'POOL' }),
  /** A reselling sub-account's own wallet. */
  wallet: (subAccountId: string): Key => ({ pk: `ACCOUNT#${subAccountId}`, sk: 'WALLET' }),
  /**
   * A ledger entry, keyed by its idempotency key so the key's uniqueness is the entry's own
   * write condition; listed newest first on gsi1 by its time-ordered id.
   */
  ledgerEntry: (agencyId: string, operation: string, scopeId: string, idempotencyKey: string): Key => ({
    pk: `LEDGER#${agencyId}`,
    sk: `IDEM#${operation}#${scopeId}#${idempotencyKey}`,
  }),
  ledgerIndex: (agencyId: string, entryId: string) => ({ gsi1pk: `LEDGER#${agencyId}`, gsi1sk: entryId }),
  ledgerOf: (agencyId: string) => ({ gsi1pk: `LEDGER#${agencyId}` }),
  /** Usage counters per account per UTC day; one Query over a date range feeds the dashboards. */
  usageDay: (agencyId: string, date: string, accountId: string): Key => ({ pk: `USAGE#${agencyId}`, sk: `${date}#${accountId}` }),
  usageOf: (agencyId: string) => ({ pk: `USAGE#${agencyId}` }),

  /** A campaign lives in its account's partition; ids are time ordered, so a Query lists by creation. */
  campaign: (accountId: string, campaignId: string): Key => ({ pk: `ACCOUNT#${accountId}`, sk: `CAMPAIGN#${campaignId}` }),
  /** Query an account's campaigns with begins_with(sk, skPrefix): the partition also holds the account item. */
  campaignsOf: (accountId: string) => ({ pk: `ACCOUNT#${accountId}`, skPrefix: 'CAMPAIGN#' }),
} as const;

/** Item kinds, stored as `kind` on every item so stream consumers can tell them apart. */
export const itemKinds = {
  account: 'account',
  user: 'user',
  email: 'email',
  apiKey: 'api_key',
  revokedToken: 'revoked_token',
  outbox: 'outbox',
  balance: 'balance',
  ledgerEntry: 'ledger_entry',
  usageDay: 'usage_day',
  campaign: 'campaign',
} as const;

export function createTableInput(tableName: string): CreateTableCommandInput {
  const d = tableDefinition;
  const attributes = new Set<string>([d.partitionKey, d.sortKey]);
  for (const ix of d.indexes) {
    attributes.add(ix.partitionKey);
    attributes.add(ix.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: d.partitionKey, KeyType: 'HASH' },
      { AttributeName: d.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: d.indexes.map((ix) => ({
      IndexName: ix.name,
      KeySchema: [
        { AttributeName: ix.partitionKey, KeyType: 'HASH' },
        { AttributeName: ix.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'ALL' },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: d.streamView },
  };
}
