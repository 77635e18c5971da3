/**
 * `npm run load`: mixed traffic against a local stack started here (DynamoDB Local in memory)
 * for a bounded time, then the ledger's invariants checked against the table itself.
 *
 * Environment: LOAD_SECONDS (30), LOAD_AGENCIES (3), LOAD_SUBS (sub-accounts per agency, 4:
 * half manual, half reselling), LOAD_SCALE (multiplies every group's connections, 1).
 * Exit code 1 on any 5xx, connection error or timeout, broken invariant, or request whose
 * entries do not match its answer.
 */
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { localCredentials, localRegion } from '#local/aws-env';
import { checkJava } from '#local/dynamodb';
import { startLocalStack } from '#local/stack';
import { stackIdle } from '../test/support/idle';
import { apiOf } from './bench/setup';
import { checkMoves } from './load/answers';
import { drive } from './load/drive';
import { checkLedger, scanTable } from './load/invariants';
import { type Move, routeGroups } from './load/mix';
import { printReport } from './load/report';
import { buildWorld } from './load/setup';

process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const num = (name: string, fallback: number) => {
  const value = Number(process.env[name] ?? fallback);
  if (!(value > 0)) throw new Error(`${name}: a positive number`);
  return value;
};
const seconds = num('LOAD_SECONDS', 30);
const agencies = num('LOAD_AGENCIES', 3);
const subsPerAgency = num('LOAD_SUBS', 4);
const scale = num('LOAD_SCALE', 1);

const problem = checkJava();
if (problem) {
  console.error(problem);
  process.exit(1);
}
const load = () =>
  loadavg()
    .map((n) => n.toFixed(1))
    .join(' ');
console.log(`${cpus().length} cores, load average ${load()} (1, 5, 15 min) before the run`);

const stackLines: string[] = [];
const stack = await startLocalStack({ queueVisibilitySeconds: 5, pollerStatus: true, log: (line) => stackLines.push(line) });
let failed = false;
try {
  const run = randomBytes(3).toString('hex');
  const setupStarted = performance.now();
  const world = await buildWorld(apiOf(stack), stack.platformApiKey, stack.sesUrl, run, {
    agencies,
    subsPerAgency,
    poolCredits: 1_000_000,
    walletCredits: 20,
    monthlyLimit: 40,
  });
  const openapi = (await (await fetch(`${stack.apiUrl}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
  const groups = routeGroups(world, run, scale, new Set(Object.keys(openapi.paths)));
  console.log(
    `set up ${agencies} agencies × ${subsPerAgency} sub-accounts in ${((performance.now() - setupStarted) / 1000).toFixed(1)}s; ` +
      `driving ${groups.reduce((n, g) => n + g.connections, 0)} connections for ${seconds}s…`,
  );

  const moves: Move[] = [];
  const results = await drive(stack.apiUrl, groups, seconds, moves);
  // Requests cut off at the end may still be committing: let them land before reading the table
  // (a scan is not a snapshot, so a transaction landing mid-scan would look half-written).
  await sleep(3000);
  // The usage rollups the invariants compare are built from the stream: wait for it to catch up.
  await stackIdle(stack, 120_000);

  const db = DynamoDBDocumentClient.from(
    new DynamoDBClient({ endpoint: stack.dynamoEndpoint, region: localRegion, credentials: localCredentials }),
  );
  const items = await scanTable(db, stack.tableName);
  const invariants = checkLedger(items);
  const answers = checkMoves(items, moves);
  failed = printReport({ results, seconds, items: items.length, invariants, answers, stackLines });
} catch (err) {
  console.error(err);
  failed = true;
} finally {
  await stack.stop();
}
console.log(`load average ${load()} after the run`);
process.exit(failed ? 1 : 0);
