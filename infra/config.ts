import { fileURLToPath } from 'node:url';
import type { Construct } from 'constructs';

/** The repository root: function entries, the lock file and tsconfig are found from here. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Shown in logs and traces; also the prefix of every stack name. */
export const serviceName = 'agency-accounts';

/** Deploy-time settings: `npx cdk deploy -c emailFrom=no-reply@mail.example.org …`. */
export interface AppConfig {
  /** Sender of the credential emails; must be a verified SES identity (address or domain). */
  emailFrom: string;
  /** The login page linked from the credential emails. */
  appLoginUrl: string;
  /** Per-route steady-state request rate and burst, per second, for routes of the `default` class. */
  apiRateLimit: number;
  apiBurstLimit: number;
  /** The same for `auth` routes (sign-up, login, verification: anyone may call them). */
  authRateLimit: number;
  authBurstLimit: number;
  /** The same for `metering` (the platform's usage reports). */
  meteringRateLimit: number;
  meteringBurstLimit: number;
  /**
   * Lambda concurrency reserved for the usage function, so a flood on other routes cannot take
   * every execution the account has and starve metering (it is also the usage function's cap).
   * 0: none reserved. Lambda keeps at least 100 of the account's limit unreserved, so an account
   * still on a low limit needs it raised first (or 0 here).
   */
  usageReservedConcurrency: number;
}

const defaults: AppConfig = {
  emailFrom: 'no-reply@example.com',
  appLoginUrl: 'https://app.example.com/login',
  apiRateLimit: 50,
  apiBurstLimit: 100,
  authRateLimit: 5,
  authBurstLimit: 10,
  meteringRateLimit: 500,
  meteringBurstLimit: 1000,
  usageReservedConcurrency: 50,
};

export function readConfig(scope: Construct): AppConfig {
  const get = (key: keyof AppConfig) => scope.node.tryGetContext(key) as string | number | undefined;
  return {
    emailFrom: String(get('emailFrom') ?? defaults.emailFrom),
    appLoginUrl: String(get('appLoginUrl') ?? defaults.appLoginUrl),
    apiRateLimit: Number(get('apiRateLimit') ?? defaults.apiRateLimit),
    apiBurstLimit: Number(get('apiBurstLimit') ?? defaults.apiBurstLimit),
    authRateLimit: Number(get('authRateLimit') ?? defaults.authRateLimit),
    authBurstLimit: Number(get('authBurstLimit') ?? defaults.authBurstLimit),
    meteringRateLimit: Number(get('meteringRateLimit') ?? defaults.meteringRateLimit),
    meteringBurstLimit: Number(get('meteringBurstLimit') ?? defaults.meteringBurstLimit),
    usageReservedConcurrency: Number(get('usageReservedConcurrency') ?? defaults.usageReservedConcurrency),
  };
}

/** `Name <a@b.c>` or `a@b.c` → `a@b.c`: the address SES checks against its verified identities. */
export function senderAddress(emailFrom: string): string {
  return (/<([^>]+)>/.exec(emailFrom)?.[1] ?? emailFrom).trim();
}
