/**
 * Invoke one HTTP function by hand with a sample API Gateway event, the way Lambda would:
 *
 *   npx tsx scripts/invoke.ts campaigns events/http/campaigns-create.json
 *
 * Needs a running `npm start` (its DynamoDB Local holds the data). `${NAME}` placeholders in
 * the event (TOKEN, ACCOUNT_ID, CAMPAIGN_ID, TARGET_ACCOUNT_ID) are filled from the environment.
 * The handlers' own env is taken from the environment, else from what `npm start` uses:
 * `.data/local-secrets.json` and the default ports (DYNAMODB_PORT etc. as for `npm start`).
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { httpFunctions } from '#http/routes';
import { localAccountId, localCredentials, localRegion } from '#local/aws-env';
import { lambdaContext } from '#local/lambda-context';
import type { LocalSecrets } from '#local/secrets';
import { queueDefinitions } from '#queues/definitions';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

const [fn, eventPath] = process.argv.slice(2);
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}
if (!fn || !eventPath || !(httpFunctions as readonly string[]).includes(fn)) {
  fail(`usage: npx tsx scripts/invoke.ts <${httpFunctions.join('|')}> <event.json>`);
}

/** Placeholders are filled textually; a value that could break the JSON around it is refused. */
function fillPlaceholders(text: string): string {
  return text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name: string) => {
    const value = process.env[name];
    if (!value) fail(`The event needs ${name}: export ${name}=… first`);
    if (!/^[\x21-\x7e]+$/.test(value) || /["\\]/.test(value)) fail(`${name} has characters an id or token never has`);
    return value;
  });
}

function localEnv(): Record<string, string> {
  const file = resolve('.data/local-secrets.json');
  const secrets: Partial<LocalSecrets> = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<LocalSecrets>)
    : {};
  const port = (name: string, fallback: number) => Number(process.env[name] || fallback);
  const sqs = `http://127.0.0.1:${port('SQS_PORT', 9324)}`;
  const env: Record<string, string | undefined> = {
    AWS_REGION: localRegion,
    AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port('DYNAMODB_PORT', 8000)}`,
    AWS_ENDPOINT_URL_SQS: sqs,
    AWS_ENDPOINT_URL_SES: `http://127.0.0.1:${port('SES_PORT', 8005)}`,
    TABLE_NAME: 'agency-accounts',
    NOTIFICATIONS_QUEUE_URL: `${sqs}/${localAccountId}/${queueDefinitions.notifications.name}`,
    TOKEN_SECRET: secrets.tokenSecret,
    PLATFORM_API_KEY: secrets.platformApiKey,
    LOCAL_ENCRYPTION_KEY: secrets.encryptionKey,
    EMAIL_FROM: 'no-reply@agency-accounts.local',
    APP_LOGIN_URL: `http://127.0.0.1:${port('PORT', 3000)}/v1/auth/login`,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => !!e[1]));
}

// Set before the handler module is imported: like a cold start, it reads its env on import.
for (const [name, value] of Object.entries(localEnv())) process.env[name] ||= value;
if (!process.env.TOKEN_SECRET) fail('No TOKEN_SECRET: run `npm start` once (it writes .data/local-secrets.json) or export it.');

const event = JSON.parse(fillPlaceholders(readFileSync(eventPath, 'utf8'))) as APIGatewayProxyEventV2;
const mod = (await import(pathToFileURL(resolve('functions/http', `${fn}.ts`)).href)) as { handler: Handler };
const result = await mod.handler(event, lambdaContext(fn));

const body = result.body && /json/.test(String(result.headers?.['content-type'])) ? JSON.parse(result.body) : result.body;
console.log(JSON.stringify({ ...result, body }, null, 2));
process.exitCode = result.statusCode && result.statusCode >= 400 ? 1 : 0;
