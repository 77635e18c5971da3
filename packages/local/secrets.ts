import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSecrets {
  platformApiKey: string;
  tokenSecret: string;
  encryptionKey: string;
  /** The local Stripe sandbox's API key and the two webhook endpoints' signing secrets. */
  stripeSecretKey: string;
  stripeWebhookSecret: string;
  stripeConnectWebhookSecret: string;
}

/**
 * The local stand-ins for Secrets Manager and KMS: generated once and kept in
 * `.data/local-secrets.json` (mode 600), so tokens and sealed items survive a restart.
 * PLATFORM_API_KEY, TOKEN_SECRET and the STRIPE_* secrets from the environment take precedence
 * (set them to run against Stripe's own test mode instead of the sandbox).
 */
export function loadLocalSecrets(dataDir: string | undefined): LocalSecrets {
  const file = dataDir ? join(dataDir, 'local-secrets.json') : undefined;
  let stored: Partial<LocalSecrets> = {};
  if (file && existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>;
  const secrets: LocalSecrets = {
    platformApiKey: stored.platformApiKey ?? `pk_local_${randomBytes(24).toString('base64url')}`,
    tokenSecret: stored.tokenSecret ?? randomBytes(48).toString('base64url'),
    encryptionKey: stored.encryptionKey ?? randomBytes(32).toString('base64'),
    stripeSecretKey: stored.stripeSecretKey ?? `sk_test_local_${randomBytes(24).toString('hex')}`,
    stripeWebhookSecret: stored.stripeWebhookSecret ?? `whsec_${randomBytes(24).toString('base64url')}`,
    stripeConnectWebhookSecret: stored.stripeConnectWebhookSecret ?? `whsec_${randomBytes(24).toString('base64url')}`,
  };
  if (file && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return {
    ...secrets,
    platformApiKey: process.env.PLATFORM_API_KEY || secrets.platformApiKey,
    tokenSecret: process.env.TOKEN_SECRET || secrets.tokenSecret,
    stripeSecretKey: process.env.STRIPE_SECRET_KEY || secrets.stripeSecretKey,
    stripeWebhookSecret: process.env.STRIPE_WEBHOOK_SECRET || secrets.stripeWebhookSecret,
    stripeConnectWebhookSecret: process.env.STRIPE_CONNECT_WEBHOOK_SECRET || secrets.stripeConnectWebhookSecret,
  };
}
