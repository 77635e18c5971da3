import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Reads a required variable; call it at module scope so a missing one fails the cold start. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    throw new Error(`Missing required environment variable ${name}`);
  }
  return value;
}

export function optionalEnv(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

const secretCache = new Map<string, Promise<string>>();
let secretsClient: SecretsManagerClient | undefined;

/**
 * A secret value: from Secrets Manager when `${name}_ARN` is set (deployed), else from the
 * variable `name` itself (the local runtime). Fetched once per container.
 */
export function secret(name: string): Promise<string> {
  let cached = secretCache.get(name);
  if (!cached) {
    const arn = optionalEnv(`${name}_ARN`);
    cached = arn ? fetchSecret(arn) : Promise.resolve(requireEnv(name));
    cached.catch(() => secretCache.delete(name));
    secretCache.set(name, cached);
  }
  return cached;
}

async function fetchSecret(arn: string): Promise<string> {
  secretsClient ??= new SecretsManagerClient({});
  const out = await secretsClient.send(new GetSecretValueCommand({ SecretId: arn }));
  if (!out.SecretString) throw new Error(`Secret ${arn} has no string value`);
  return out.SecretString;
}
