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
/** Authentication reads the caller's account and agency, its user (session version), its revocation, an API key. */
export const authenticating = ['ACCOUNT#', 'APIKEY#', 'REVOKED#', 'USER#'] as const;
/** The agency's audit log: every audited write adds its record to its own transaction. */
export const auditing = 'AUDIT#';

/**
 * The workers' partitions, keyed by function name. Each HTTP function's list is in its manifest
 * (http/routes/<group>.ts, `tableKeys`); http/functions.ts joins both into `tableKeyPrefixes`.
 */
export const workerTableKeyPrefixes = {
  // Reads the sub-account, agency and settings (ACCOUNT#), opens requests and their deliveries, the cap email;
  // auto top-up: the pool's crossings, the top-up's purchase, its credit (entry, payment binding) and emails.
  'recharge-detector': ['ACCOUNT#', 'RECHARGE#', 'WEBHOOK#', 'OUTBOX#', 'LANE#', 'PURCHASE#', 'STRIPE_PAYMENT#', 'LEDGER#'],
  // Reads the endpoint (and disables it on a 410), records attempts, the final failure's email.
  'webhook-sender': ['ACCOUNT#', 'WEBHOOK#', 'OUTBOX#'],
  // Claims, releases and deletes outbox items, nothing else.
  notifier: ['OUTBOX#'],
  // Reads the stream only.
  forwarder: [],
  // Closes idle lanes: their balance items (and a limited sub-account's meter), the lanes.
  'lane-sweeper': ['ACCOUNT#', 'LANE#'],
  // Reads and writes the usage rollups, nothing else (it reads the entries from the stream).
  'usage-rollups': ['ROLLUP#'],
} as const satisfies Record<string, readonly string[]>;

export type Worker = keyof typeof workerTableKeyPrefixes;
