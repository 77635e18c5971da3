import { fileURLToPath } from 'node:url';
import type { Construct } from 'constructs';
import { parseResellingConfig, type RawResellingConfig, rawResellingConfig, resellingSettings } from '#domain/reselling/config';

/** The repository root: function entries, the lock file and tsconfig are found from here. */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** Shown in logs and traces; also the prefix of every stack name. */
export const serviceName = 'agency-accounts';

/** Deploy-time settings: `npx cdk deploy -c emailFrom=no-reply@mail.example.org …`. */
export interface AppConfig {
  /** Sender of the credential emails; must be a verified SES identity (address or domain). */
  emailFrom: string;
  /** The login page linked from the credential emails: the console's sign-in page unless set. */
  appLoginUrl: string;
  /**
   * The web console's address (its CloudFront distribution or the custom domain in front of it):
   * verification and password reset emails link to its pages (`token=` in the query), Stripe
   * Checkout and Connect onboarding send the browser back to it.
   */
  appUrl: string;
  /** The console's own domain name on CloudFront (with consoleCertificateArn, an ACM certificate in us-east-1); unset: the distribution's *.cloudfront.net name. */
  consoleDomain?: string;
  consoleCertificateArn?: string;
  /** Requests per 5 minutes one client IP may send to the console and API through CloudFront before WAF blocks it. */
  consoleRateLimit: number;
  /** Sub-accounts an agency may create (403 `quota_exceeded` beyond). */
  subAccountQuota: number;
  /** Reselling and credit-purchase settings (packages/domain/reselling/config.ts), each from its own context key. */
  reselling: RawResellingConfig;
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
  /** Auto-recharge requests one sub-account may open per UTC day (API.md: 10, configurable); then the agency is emailed. */
  autoRechargeDailyCap: number;
  /** Auto top-ups one agency's pool may attempt per UTC day (API.md: 5, configurable); then the agency is emailed. */
  autoTopUpDailyCap: number;
  /** Subscribed by email to the operators' alarm topic (DLQ depth, API 5xx). Unset: no subscription. */
  alarmEmail?: string;
}

const defaults: Omit<AppConfig, 'reselling' | 'appLoginUrl'> = {
  emailFrom: 'no-reply@example.com',
  appUrl: 'https://app.example.com',
  consoleRateLimit: 2000,
  subAccountQuota: 1000,
  apiRateLimit: 50,
  apiBurstLimit: 100,
  authRateLimit: 5,
  authBurstLimit: 10,
  meteringRateLimit: 500,
  meteringBurstLimit: 1000,
  usageReservedConcurrency: 50,
  autoRechargeDailyCap: 10,
  autoTopUpDailyCap: 5,
};

export function readConfig(scope: Construct): AppConfig {
  const get = (key: keyof AppConfig) => scope.node.tryGetContext(key) as string | number | undefined;
  const consoleDomain = get('consoleDomain') as string | undefined;
  const appUrl = String(get('appUrl') ?? (consoleDomain ? `https://${consoleDomain}` : defaults.appUrl)).replace(/\/+$/, '');
  return {
    emailFrom: String(get('emailFrom') ?? defaults.emailFrom),
    appLoginUrl: String(get('appLoginUrl') ?? `${appUrl}/sign-in`),
    appUrl,
    consoleDomain,
    consoleCertificateArn: get('consoleCertificateArn') as string | undefined,
    consoleRateLimit: Number(get('consoleRateLimit') ?? defaults.consoleRateLimit),
    subAccountQuota: Number(get('subAccountQuota') ?? defaults.subAccountQuota),
    apiRateLimit: Number(get('apiRateLimit') ?? defaults.apiRateLimit),
    apiBurstLimit: Number(get('apiBurstLimit') ?? defaults.apiBurstLimit),
    reselling: readResellingConfig(scope),
    authRateLimit: Number(get('authRateLimit') ?? defaults.authRateLimit),
    authBurstLimit: Number(get('authBurstLimit') ?? defaults.authBurstLimit),
    meteringRateLimit: Number(get('meteringRateLimit') ?? defaults.meteringRateLimit),
    meteringBurstLimit: Number(get('meteringBurstLimit') ?? defaults.meteringBurstLimit),
    usageReservedConcurrency: Number(get('usageReservedConcurrency') ?? defaults.usageReservedConcurrency),
    autoRechargeDailyCap: boundedInt(
      get('autoRechargeDailyCap') ?? defaults.autoRechargeDailyCap,
      'autoRechargeDailyCap',
      1,
      1000,
    ),
    autoTopUpDailyCap: boundedInt(get('autoTopUpDailyCap') ?? defaults.autoTopUpDailyCap, 'autoTopUpDailyCap', 1, 100),
    alarmEmail: get('alarmEmail') as string | undefined,
  };
}

/** A whole number in [min, max], or the synth fails naming the key (the function would otherwise fall back silently). */
function boundedInt(value: string | number, key: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new Error(`-c ${key}=${value}: a whole number from ${min} to ${max} is required`);
  return n;
}

/**
 * The reselling settings from CDK context (defaults filled in), checked as the functions will
 * check them: a bad value fails the synth, and so does a missing `requiredAtDeploy` one.
 */
function readResellingConfig(scope: Construct): RawResellingConfig {
  const raw = rawResellingConfig((s) => {
    const value = scope.node.tryGetContext(s.context) as string | number | boolean | undefined;
    if (value === undefined && 'requiredAtDeploy' in s)
      throw new Error(`CDK context ${s.context} is required (-c ${s.context}=…): ${s.env} has no default when deployed`);
    return value === undefined ? undefined : String(value);
  });
  parseResellingConfig(raw);
  return raw;
}

/** The same settings as the environment the functions read. */
export function resellingEnvironment(raw: RawResellingConfig): Record<string, string> {
  return Object.fromEntries(
    (Object.keys(resellingSettings) as (keyof typeof resellingSettings)[]).map((k) => [resellingSettings[k].env, raw[k]]),
  );
}

/** `Name <a@b.c>` or `a@b.c` → `a@b.c`: the address SES checks against its verified identities. */
export function senderAddress(emailFrom: string): string {
  return (/<([^>]+)>/.exec(emailFrom)?.[1] ?? emailFrom).trim();
}
