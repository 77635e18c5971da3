/**
 * `npm start`: the whole system on this machine. Data persists under .data/ unless
 * `--in-memory`; ports come from PORT, SES_PORT, DYNAMODB_PORT and SQS_PORT.
 */
import { resolve } from 'node:path';
import { checkJava } from '../packages/local/dynamodb';
import { startLocalStack } from '../packages/local/stack';

// Node 20 is this project's local baseline; the SDK's notice about its future Node 22 floor is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const javaProblem = checkJava();
if (javaProblem) {
  console.error(javaProblem);
  process.exit(1);
}

const inMemory = process.argv.includes('--in-memory');
const port = (name: string, fallback: number) => Number(process.env[name] || fallback);
const log = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);

const stack = await startLocalStack({
  dataDir: resolve('.data'),
  inMemoryDb: inMemory,
  ports: {
    api: port('PORT', 3000),
    ses: port('SES_PORT', 8005),
    dynamodb: port('DYNAMODB_PORT', 8000),
    sqs: port('SQS_PORT', 9324),
  },
  log,
  accessLog: true,
}).catch((err: Error) => {
  console.error(`Could not start the local stack: ${err.message}`);
  process.exit(1);
});

console.log(`
Agency accounts is running locally.
  API             ${stack.apiUrl}/v1/health   (OpenAPI: ${stack.apiUrl}/v1/openapi.json)
  Email inbox     ${stack.sesUrl}/
  DynamoDB Local  ${stack.dynamoEndpoint}  table ${stack.tableName}${inMemory ? ' (in memory)' : ' (data in .data/dynamodb)'}
  SQS (local)     ${stack.sqsEndpoint}
  Platform key    ${stack.platformApiKey}
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
