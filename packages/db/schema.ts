/**
 * The single table, defined once. CDK builds the deployed table from `tableDefinition`, the
 * local runtime and the tests create theirs with `createTableInput`, and every item key in
 * the code comes from the key builders of the item modules in `items/`.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    /** Generic overloaded index: "list X of Y" patterns. */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
    /**
     * Sparse lists an item is on besides its gsi1 one: a sub-account's ledger entries (by
     * time, spread like the ledger), the reselling sub-accounts of an agency, the audit
     * records of one target.
     */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
    /**
     * Sparse lists of items that are rare and never on the hot path: an agency's ledger entries
     * of one type, for every type but usage (no debit has a copy here).
     */
    { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  ],
  timeToLiveAttribute: 'ttl',
  streamView: 'NEW_AND_OLD_IMAGES',
} as const;

export type Key = { pk: string; sk: string };
export type IndexName = (typeof tableDefinition.indexes)[number]['name'];

/** An index's definition by name. */
export const indexNamed = (name: IndexName) =>
  tableDefinition.indexes.find((ix) => ix.name === name) as (typeof tableDefinition.indexes)[number];

/**
 * An item as written: its attributes, then its keys (table and index) on top, so keys carried
 * over from an item that was read (a copy, a next version) can never redirect the write.
 */
export function stored<T extends object>(item: T, ...keys: object[]): T & Key {
  return Object.assign({}, item, ...keys) as T & Key;
}

/**
 * Each item kind has its own module in `items/`: key builders (from `keyPrefixes`), index keys,
 * stored type, its shape (item-shape.ts: every read parses with it) and put/update builders.
 * This file holds what they share: the table, the key prefixes and the kinds.
 */

/**
 * The leading part of every table partition key, one per family of partitions: the item modules
 * build their keys from these, and each function is granted the table by them (db/access.ts,
 * the HTTP manifests' `tableKeys`: IAM's `dynamodb:LeadingKeys`). Index partitions are not here:
 * index queries are granted by index, not by key.
 */
export const keyPrefixes = {
  /** An account and what hangs off it: its balance, settings, alerts, campaigns, purchase keys. */
  account: 'ACCOUNT#',
  user: 'USER#',
  email: 'EMAIL#',
  apiKey: 'APIKEY#',
  apiKeyId: 'APIKEYID#',
  revokedToken: 'REVOKED#',
  throttle: 'THROTTLE#',
  oneTimeToken: 'OTT#',
  outbox: 'OUTBOX#',
  /**
   * A balance's lanes: the balance's own key follows (`LANE#ACCOUNT#…#POOL#<slot>`); and the
   * sweeper's list of balances with lanes open (`LANE#HEADS#<nn>`).
   */
  lane: 'LANE#',
  ledger: 'LEDGER#',
  rollup: 'ROLLUP#',
  recharge: 'RECHARGE#',
  /** An agency's webhook endpoints, deliveries and sending slots. */
  webhook: 'WEBHOOK#',
  purchase: 'PURCHASE#',
  reselling: 'RESELLING#',
  stripeAccount: 'STRIPE_ACCOUNT#',
  stripeEvent: 'STRIPE_EVENT#',
  stripePayment: 'STRIPE_PAYMENT#',
  audit: 'AUDIT#',
  /** The one key the readiness check reads: nothing is stored there. */
  readiness: 'READINESS',
} as const;
export type KeyPrefix = (typeof keyPrefixes)[keyof typeof keyPrefixes];

/** Item kinds, stored as `kind` on every item so stream consumers can tell them apart. */
export const itemKinds = {
  account: 'account',
  user: 'user',
  email: 'email',
  apiKey: 'api_key',
  apiKeyId: 'api_key_id',
  revokedToken: 'revoked_token',
  throttle: 'throttle',
  oneTimeToken: 'one_time_token',
  outbox: 'outbox',
  balance: 'balance',
  lane: 'lane',
  laneHead: 'lane_head',
  ledgerEntry: 'ledger_entry',
  ledgerRefusal: 'ledger_refusal',
  usageDay: 'usage_day',
  accountUsageDay: 'account_usage_day',
  agencyUsageDay: 'agency_usage_day',
  accountTotals: 'account_totals',
  campaign: 'campaign',
  resellingSettings: 'reselling_settings',
  stripeAccount: 'stripe_account',
  purchase: 'purchase',
  purchaseKey: 'purchase_key',
  resellingTotals: 'reselling_totals',
  resellingDay: 'reselling_day',
  stripeEvent: 'stripe_event',
  stripePayment: 'stripe_payment',
  rechargeRequest: 'recharge_request',
  rechargeState: 'recharge_state',
  webhookDelivery: 'webhook_delivery',
  webhookSlots: 'webhook_slots',
  webhookEndpoints: 'webhook_endpoints',
  autoTopUp: 'auto_top_up',
  lowBalanceAlerts: 'low_balance_alerts',
  lowBalanceAlerted: 'low_balance_alerted',
  auditRecord: 'audit_record',
  accountMeter: 'account_meter',
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
