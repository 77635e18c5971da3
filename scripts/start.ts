/**
 * `npm start`: the whole system on this machine. Data persists under .data/ unless
 * `--in-memory`; ports come from PORT, SES_PORT, DYNAMODB_PORT, SQS_PORT and STRIPE_SANDBOX_PORT.
 * With STRIPE_API_BASE set (https://api.stripe.com), the SDK talks to Stripe's test mode instead
 * of the local sandbox (README: "Against Stripe's test mode"). LOCAL_LAMBDA_CONCURRENCY=K runs
 * each function in up to K container processes, as Lambda does; DYNAMODB_ENDPOINT uses another
 * DynamoDB-compatible endpoint instead of DynamoDB Local; DYNAMODB_FIDELITY puts the fidelity
 * proxy (AWS's conflicts, latency and throughput limits) in front of it.
 */
import { resolve } from 'node:path';
import { buildConsole, consoleDist } from '#console/build';
import { parseFidelityEnv } from '#local/dynamo-fidelity/options';
import { checkJava } from '#local/dynamodb';
import { startLocalStack } from '#local/stack';
import { DEFAULT_STRIPE_SANDBOX_PORT } from '#local/stripe-sandbox/index';
import { type ConsoleLogin, ensureConsoleLogin } from './lib/console-login';

const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT || undefined;
const javaProblem = dynamoEndpoint ? undefined : checkJava();
if (javaProblem) {
  console.error(javaProblem);
  process.exit(1);
}

const inMemory = process.argv.includes('--in-memory');
const port = (name: string, fallback: number) => Number(process.env[name] || fallback);
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
const lambdaConcurrency = Number(process.env.LOCAL_LAMBDA_CONCURRENCY || 1);
if (!Number.isInteger(lambdaConcurrency) || lambdaConcurrency < 1) {
  console.error('LOCAL_LAMBDA_CONCURRENCY: a whole number of container processes per function, 1 or more');
  process.exit(1);
}
let dynamoFidelity: ReturnType<typeof parseFidelityEnv>;
try {
  dynamoFidelity = parseFidelityEnv(process.env.DYNAMODB_FIDELITY);
} catch (err) {
  console.error((err as Error).message);
  process.exit(1);
}

// The web console is part of the set-up: built here when its sources (or the API) changed since the last build.
const consoleBuild = await buildConsole().catch((err: Error) => {
  console.error(`Could not build the web console: ${err.message}`);
  process.exit(1);
});
log(`web console: ${consoleBuild}`);

const stack = await startLocalStack({
  consoleDist,
  dataDir: resolve('.data'),
  inMemoryDb: inMemory,
  ports: {
    api: port('PORT', 3000),
    ses: port('SES_PORT', 8005),
    dynamodb: port('DYNAMODB_PORT', 8000),
    sqs: port('SQS_PORT', 9324),
    stripe: port('STRIPE_SANDBOX_PORT', DEFAULT_STRIPE_SANDBOX_PORT),
  },
  externalStripe: process.env.STRIPE_API_BASE || undefined,
  lambdaConcurrency,
  dynamoEndpoint,
  dynamoFidelity,
  log,
  accessLog: true,
}).catch((err: Error) => {
  console.error(`Could not start the local stack: ${err.message}`);
  process.exit(1);
});

/** The sandbox's generated keys are local and printed; real test-mode keys came from the environment and are not. */
function stripeLines(): string {
  if (!stack.stripeSandboxUrl) return `${stack.stripeApiBase} (Stripe itself; keys and webhook secrets from the environment)`;
  return [
    `local sandbox ${stack.stripeSandboxUrl}  (every event it sent: ${stack.stripeSandboxUrl}/sandbox/events)`,
    `    STRIPE_SECRET_KEY              ${stack.env.STRIPE_SECRET_KEY}`,
    `    STRIPE_WEBHOOK_SECRET          ${stack.env.STRIPE_WEBHOOK_SECRET}  → ${stack.apiUrl}/v1/webhooks/stripe`,
    `    STRIPE_CONNECT_WEBHOOK_SECRET  ${stack.env.STRIPE_CONNECT_WEBHOOK_SECRET}  → ${stack.apiUrl}/v1/webhooks/stripe/connect`,
  ].join('\n');
}

function dynamoLine(): string {
  const where = dynamoEndpoint
    ? `DynamoDB        ${dynamoEndpoint}  table ${stack.tableName}`
    : `DynamoDB Local  http://127.0.0.1:${port('DYNAMODB_PORT', 8000)}  table ${stack.tableName}${inMemory ? ' (in memory)' : ' (data in .data/dynamodb)'}`;
  const fidelity = stack.fidelityUrl
    ? `\n  Fidelity proxy  ${stack.fidelityUrl}  (the handlers' endpoint; counts: ${stack.fidelityUrl}/fidelity/stats)`
    : '';
  const lambda = lambdaConcurrency > 1 ? `\n  Lambda          up to ${lambdaConcurrency} container processes per function` : '';
  return where + fidelity + lambda;
}

// A login to try the console with at once (kept with the data, so a restart prints the same one).
const loginFile = inMemory ? undefined : resolve('.data/console-login.json');
const consoleLogin = await ensureConsoleLogin(
  { apiUrl: stack.apiUrl, inboxUrl: stack.sesUrl, platformApiKey: stack.platformApiKey },
  loginFile,
).catch((err: Error) => err);

function loginLine(login: ConsoleLogin | Error): string {
  if (login instanceof Error) return `(none: ${login.message}; sign up at ${stack.apiUrl}/sign-up)`;
  const where = loginFile ? `  (kept in .data/console-login.json)` : '';
  if (login.state === 'stale') return `${login.email}: its password was changed in the console; use yours${where}`;
  return `${login.email}  password ${login.password}${where}`;
}

console.log(`
Agency accounts is running locally.
  Web console     ${stack.apiUrl}/
  Console login   ${loginLine(consoleLogin)}
  API             ${stack.apiUrl}/v1/health   (OpenAPI: ${stack.apiUrl}/v1/openapi.json)
  Email inbox     ${stack.sesUrl}/
  ${dynamoLine()}
  SQS (local)     ${stack.sqsEndpoint}
  Platform key    ${stack.platformApiKey}
  Stripe          ${stripeLines()}
Press Ctrl-C to stop.
`);

// An engine that keeps dying has already stopped the whole stack: say why and fail.
void stack.fatal.then((err) => {
  console.error(`\n${err.message}`);
  process.exit(1);
});

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping…');
    void stack.stop().then(() => process.exit(0));
  });
}
