import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSecrets {
  platformApiKey: string;
  tokenSecret: string;
  encryptionKey: string;
}

/**
 * The local stand-ins for Secrets Manager and KMS: generated once and kept in
 * `.data/local-secrets.json` (mode 600), so tokens and sealed items survive a restart.
 * PLATFORM_API_KEY and TOKEN_SECRET from the environment take precedence.
 */
export function loadLocalSecrets(dataDir: string | undefined): LocalSecrets {
  const file = dataDir ? join(dataDir, 'local-secrets.json') : undefined;
  let stored: Partial<LocalSecrets> = {};
  if (file && existsSync(file)) stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>;
  const secrets: LocalSecrets = {
    platformApiKey: stored.platformApiKey ?? `pk_local_${randomBytes(24).toString('base64url')}`,
    tokenSecret: stored.tokenSecret ?? randomBytes(48).toString('base64url'),
    encryptionKey: stored.encryptionKey ?? randomBytes(32).toString('base64'),
  };
  if (file && dataDir) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  }
  return {
    ...secrets,
    platformApiKey: process.env.PLATFORM_API_KEY || secrets.platformApiKey,
    tokenSecret: process.env.TOKEN_SECRET || secrets.tokenSecret,
  };
}
