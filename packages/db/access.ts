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
const authenticating = ['ACCOUNT#', 'APIKEY#', 'REVOKED#', 'USER#'] as const;
/** The agency's audit log: every audited write adds its record to its own transaction. */
const auditing = 'AUDIT#';

/**
 * Keyed by function name: the HTTP functions of the route table (http/route-def.ts; the stack
 * indexes this by each of them, so one missing here fails the build) and the workers.
 */
export const tableKeyPrefixes = {
  fallback: [],
  docs: [],
  // Sign-up writes the agency, its user, the email guard and the verification token and email;
  // login reads them and counts attempts; verification and password reset spend one-time
  // tokens; readiness reads one fixed key. Nothing authenticates. Each of those writes its audit record.
  public: ['ACCOUNT#', 'USER#', 'EMAIL#', 'OTT#', 'OUTBOX#', 'THROTTLE#', 'READINESS', auditing],
  // Passwords (users), API keys and their id items, logouts and assist exits, the verification resend; the audit log.
  identity: [...authenticating, 'APIKEYID#', 'OTT#', 'OUTBOX#', 'THROTTLE#', auditing],
  // A sub-account, its client user and email guard, and the credentials email's outbox item;
  // enabling auto-recharge below the threshold opens a request (and its delivery) at once.
  // creditsUsedThisMonth is the account's month rollup; closing or re-moding closes its lanes.
  'sub-accounts': [...authenticating, 'EMAIL#', 'OUTBOX#', 'RECHARGE#', 'WEBHOOK#', 'LANE#', 'ROLLUP#', auditing],
  // Campaigns live in their account's partition.
  campaigns: [...authenticating, auditing],
  // The debit: balances and meters (accounts), the entry (ledger), this container's lanes (lanes.ts).
  // Platform key only, but a user's token is still authenticated (USER#) before its 403.
  usage: [...authenticating, 'LEDGER#', 'LANE#'],
  // A grant with a requestId fulfils that recharge request in its transaction; the dashboards read the usage rollups.
  credits: [...authenticating, 'LEDGER#', 'ROLLUP#', 'RECHARGE#', 'LANE#'],
  // Plans and status live on the agency item; the platform's change is audited.
  admin: [...authenticating, auditing],
  // Settings and pricing (the agency's partition), the Stripe account's owner, purchases, the dashboard's totals
  // and its consumption (the usage rollups).
  reselling: [...authenticating, 'STRIPE_ACCOUNT#', 'PURCHASE#', 'RESELLING#', 'ROLLUP#', 'LANE#', auditing],
  // Events seen, purchases and their credits (balances, entries, the reselling counters), the Stripe account's owner,
  // payments bound to purchases (or parked refunds and disputes), and the emails telling the agency.
  'stripe-webhooks': [
    'STRIPE_EVENT#',
    'STRIPE_ACCOUNT#',
    'STRIPE_PAYMENT#',
    'PURCHASE#',
    'ACCOUNT#',
    'LEDGER#',
    'RESELLING#',
    'OUTBOX#',
    'LANE#',
  ],
  // The webhook endpoint (the agency's reselling settings), recharge requests, deliveries, the test events' throttle;
  // each change's audit record.
  'auto-recharge': [...authenticating, 'RECHARGE#', 'WEBHOOK#', 'THROTTLE#', auditing],
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

export type TableUser = keyof typeof tableKeyPrefixes;
