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

/**
 * A secret value: deployed, from Secrets Manager through the AWS Parameters and Secrets Lambda
 * extension when `${name}_ARN` is set (a localhost HTTP call the extension answers from its
 * cache, and no Secrets Manager SDK client in the bundle); locally, from the variable `name`
 * itself. Fetched once per container. `stage` reads an older version (rotation: AWSPREVIOUS).
 */
export function secret(name: string, stage: 'AWSCURRENT' | 'AWSPREVIOUS' = 'AWSCURRENT'): Promise<string> {
  const cacheKey = `${name}/${stage}`;
  let cached = secretCache.get(cacheKey);
  if (!cached) {
    const arn = optionalEnv(`${name}_ARN`);
    const local = stage === 'AWSCURRENT' ? name : `${name}_PREVIOUS`;
    cached = arn ? fetchSecret(arn, stage) : Promise.resolve(requireEnv(local));
    cached.catch(() => secretCache.delete(cacheKey));
    secretCache.set(cacheKey, cached);
  }
  return cached;
}

async function fetchSecret(arn: string, stage: string): Promise<string> {
  const value = await fetchSecretStage(arn, stage);
  if (value === undefined) throw new Error(`Secret ${arn} has no ${stage} value`);
  return value;
}

/**
 * One version stage of a secret from the Parameters and Secrets extension (which caches it for
 * its TTL), uncached here: for keys that rotate. `undefined` when the stage does not exist
 * (a secret never rotated has no AWSPREVIOUS).
 */
export async function fetchSecretStage(arn: string, stage: string): Promise<string | undefined> {
  const port = optionalEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT') ?? '2773';
  const url = `http://localhost:${port}/secretsmanager/get?secretId=${encodeURIComponent(arn)}&versionStage=${stage}`;
  const res = await fetch(url, { headers: { 'X-Aws-Parameters-Secrets-Token': requireEnv('AWS_SESSION_TOKEN') } });
  if (res.status === 400 || res.status === 404) {
    const text = await res.text();
    if (/ResourceNotFound/i.test(text)) return undefined;
    throw new Error(`Secret ${arn} (${stage}): the secrets extension answered ${res.status}`);
  }
  if (!res.ok) throw new Error(`Secret ${arn} (${stage}): the secrets extension answered ${res.status}`);
  const out = (await res.json()) as { SecretString?: string };
  return out.SecretString || undefined;
}
