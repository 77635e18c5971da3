import { keyPrefixes } from './schema';

/**
 * Which table partitions each function may touch, by key prefix (schema.ts, `keyPrefixes`): one
 * place for the fact. CDK turns each list into a `dynamodb:LeadingKeys` condition on the function's item
 * permissions (IAM then refuses any other key), and the local runtime enforces the same lists
 * on every call a handler makes (packages/local/table-access.ts), so a handler that reaches for
 * a partition its function was not given fails in the tests as it would deployed, not only in
 * production. An empty list: no table access at all.
 *
 * Index queries (`gsi1`) are not narrowed: their partitions are granted by index, not by key.
 */
/** Authentication reads the caller's account and agency, its user (session version), its revocation, an API key. */
export const authenticating = [keyPrefixes.account, keyPrefixes.apiKey, keyPrefixes.revokedToken, keyPrefixes.user] as const;
/** The agency's audit log: every audited write adds its record to its own transaction. */
export const auditing = keyPrefixes.audit;

/**
 * The workers' partitions, keyed by function name. Each HTTP function's list is in its manifest
 * (http/routes/<group>.ts, `tableKeys`); http/functions.ts joins both into `tableKeyPrefixes`.
 */
export const workerTableKeyPrefixes = {
  // Reads the sub-account, agency and settings (their account partitions), opens requests and their deliveries, the cap email;
  // auto top-up: the pool's crossings, the top-up's purchase, its credit (entry, payment binding) and emails.
  'recharge-detector': [
    keyPrefixes.account,
    keyPrefixes.recharge,
    keyPrefixes.webhook,
    keyPrefixes.outbox,
    keyPrefixes.lane,
    keyPrefixes.purchase,
    keyPrefixes.stripePayment,
    keyPrefixes.ledger,
  ],
  // Reads the endpoint (and disables it on a 410), records attempts, the final failure's email.
  'webhook-sender': [keyPrefixes.account, keyPrefixes.webhook, keyPrefixes.outbox],
  // Claims, releases and deletes outbox items, nothing else.
  notifier: [keyPrefixes.outbox],
  // Reads the stream only.
  forwarder: [],
  // Closes idle lanes: their balance items (and a limited sub-account's meter), the lanes.
  'lane-sweeper': [keyPrefixes.account, keyPrefixes.lane],
  // Reads and writes the usage rollups, nothing else (it reads the entries from the stream).
  'usage-rollups': [keyPrefixes.rollup],
} as const satisfies Record<string, readonly string[]>;

export type Worker = keyof typeof workerTableKeyPrefixes;
