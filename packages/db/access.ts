import type { HttpFunction } from '../http/route-def';

/**
 * Which table partitions each function may touch, by key prefix: one place for the fact.
 * CDK turns each list into a `dynamodb:LeadingKeys` condition on the function's item
 * permissions (IAM then refuses any other key), and the local runtime enforces the same lists
 * on every call a handler makes (packages/local/table-access.ts), so a handler that reaches for
 * a partition its function was not given fails in the tests as it would deployed, not only in
 * production. An empty list: no table access at all.
 *
 * Index queries (`gsi1`) are not narrowed: their partitions are granted by index, not by key.
 */
const authenticating = ['ACCOUNT#', 'APIKEY#', 'REVOKED#'] as const;

export type TableUser = HttpFunction | 'notifier' | 'forwarder';

export const tableKeyPrefixes: Record<TableUser, readonly string[]> = {
  fallback: [],
  docs: [],
  // Sign-up writes the agency, its user and the email guard; login reads them. Nothing authenticates.
  public: ['ACCOUNT#', 'USER#', 'EMAIL#'],
  // Passwords (users), API keys and their id items, assist tokens revoked on exit.
  identity: [...authenticating, 'USER#', 'APIKEYID#'],
  // A sub-account, its client user and email guard, and the credentials email's outbox item.
  'sub-accounts': [...authenticating, 'USER#', 'EMAIL#', 'OUTBOX#'],
  // Campaigns live in their account's partition.
  campaigns: authenticating,
  // The debit: balances and meters (accounts), the entry (ledger), the day counter (usage).
  usage: [...authenticating, 'LEDGER#', 'USAGE#'],
  credits: [...authenticating, 'LEDGER#', 'USAGE#'],
  // Claims, releases and deletes outbox items, nothing else.
  notifier: ['OUTBOX#'],
  // Reads the stream only.
  forwarder: [],
};
