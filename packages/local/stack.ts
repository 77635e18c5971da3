import { join } from 'node:path';
import { resellingSettings } from '#domain/reselling/config';
import { stripeEventTypes } from '#domain/reselling/event-types';
import {
  laneSweeperSchedule,
  queueDefinitions,
  rechargeStreamFilters,
  type StreamSource,
  streamSourceDefinition,
  usageRollupSource,
} from '#queues/definitions';
import { localCredentials, localRegion } from './aws-env';
import type { FidelitySettings } from './dynamo-fidelity/options';
import type { FidelityProxy } from './dynamo-fidelity/proxy';
import { stackDynamo, streamArnOf } from './dynamodb';
import { startGateway } from './gateway';
import { deathNotice, loopInstance, serverInstance } from './instances';
import { type LambdaRuntime, lambdaRuntime } from './lambda-pool';
import { assertPortFree, freePort } from './ports';
import { startQueuePoller } from './queue-poller';
import { startSchedule } from './schedule';
import { loadLocalSecrets } from './secrets';
import { startLocalSes } from './ses';
import { type LocalQueues, startLocalQueues } from './sqs';
import { startStatusServer } from './status-server';
import { type StreamPollerStatus, startStreamPoller } from './stream-poller';
import { type RetryPolicy, type StripeSandbox, startStripeSandbox } from './stripe-sandbox';
import { createSupervisor, type KillOptions, type RestartEvent, type RestartPolicy, type Supervisor } from './supervisor';
import { tableMirror } from './table-mirror';
import { workerHandlers } from './workers';

export interface LocalStackOptions {
  /** Where DynamoDB data and local secrets live; undefined = all in memory (tests). */
  dataDir?: string;
  /** Keep secrets under dataDir but the database in memory. */
  inMemoryDb?: boolean;
  ports?: { api?: number; ses?: number; dynamodb?: number; sqs?: number; stripe?: number };
  /** How soon the Stripe sandbox retries a webhook that failed (tests: quickly). */
  stripeRetry?: RetryPolicy;
  /**
   * Stripe itself at this base URL (e.g. https://api.stripe.com, with test-mode keys in
   * STRIPE_SECRET_KEY and the webhook secrets `stripe listen` prints) instead of the local sandbox.
   */
  externalStripe?: string;
  tableName?: string;
  /** Local stand-in for the queue's visibility timeout, so retries come back in seconds. */
  queueVisibilitySeconds?: number;
  /** At most this batching window for the stream pollers (tests: a fraction of a second, so the pipeline idles soon). */
  streamWindowSeconds?: number;
  /** How often the lane sweeper runs (default: as deployed, laneSweeperSchedule). */
  laneSweepSeconds?: number;
  /** When an engine that dies is restarted, and when the stack gives up (tests use small numbers). */
  restartPolicy?: Partial<RestartPolicy>;
  log?: (line: string) => void;
  accessLog?: boolean;
  /** Let requests pin the clock with the `x-test-clock` header (the test stack only). */
  testClock?: boolean;
  /** The built web console (packages/console/dist), served at the API's origin outside /v1/*. */
  consoleDist?: string;
  /**
   * Auto-recharge webhooks: seconds between attempts (default: backoff.ts, about a day in all)
   * and how long a receiver has (default 10 s). The tests shorten both.
   */
  webhooks?: { retryDelaysSeconds?: number[]; timeoutMs?: number; dailyCap?: number };
  /** Serve the pollers' progress on 127.0.0.1 (`statusUrl`), for tests that wait for the pipeline to be idle. */
  pollerStatus?: boolean;
  /**
   * With `pollerStatus`: keep a copy of the table from its stream (table-mirror.ts) and serve the
   * items that mention given ids at `POST <statusUrl>/table/items` (the test stack's snapshots).
   */
  tableMirror?: boolean;
  /**
   * Run each function as Lambda does: up to this many container processes per function, each
   * serving one request (or batch) at a time (lambda-pool.ts). 1, the default: every handler
   * runs in this process (`LOCAL_LAMBDA_CONCURRENCY` for `npm start`).
   */
  lambdaConcurrency?: number;
  /** A DynamoDB-compatible endpoint to use instead of starting DynamoDB Local (`DYNAMODB_ENDPOINT`). */
  dynamoEndpoint?: string;
  /**
   * Put the fidelity proxy (dynamo-fidelity/proxy.ts) in front of DynamoDB: AWS's transaction
   * conflicts, latency, throughput limits and billing counts. `true` for its defaults
   * (`DYNAMODB_FIDELITY` for `npm start` and the bench).
   */
  dynamoFidelity?: boolean | FidelitySettings;
}

/** What a client of the stack needs to reach it (plain data: the test stack hands it to workers). */
export interface LocalStackInfo {
  apiUrl: string;
  sesUrl: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  tableName: string;
  queueUrls: { notifications: string; notificationsDlq: string; webhooks: string; webhooksDlq: string };
  platformApiKey: string;
  /** Where the platform's Stripe client is pointed (STRIPE_API_BASE): the local sandbox, or Stripe itself. */
  stripeApiBase: string;
  /** The local Stripe sandbox (its pages and control routes), or null when running against Stripe. */
  stripeSandboxUrl: string | null;
  /**
   * `GET <statusUrl>/stream-pollers` → StreamPollersStatus (each stream poller's progress), when
   * asked for (`pollerStatus`); asking also wakes the pollers from their idle pause. With
   * `tableMirror`, `POST <statusUrl>/table/items` {mentioning: string[]} → {items} (status-server.ts).
   */
  statusUrl: string | null;
  /** The fidelity proxy (also `dynamoEndpoint` then): GET /fidelity/stats, POST /fidelity/reset, GET|POST /fidelity/config. */
  fidelityUrl: string | null;
  /** Container processes per function (1: handlers run in the stack's process). */
  lambdaConcurrency: number;
  env: Record<string, string>;
}

/** Every stream poller of the stack by engine name: what a test waits on before it says "nothing more comes". */
export type StreamPollersStatus = Record<
  'stream-poller' | 'recharge-stream-poller' | 'usage-rollups-stream-poller',
  StreamPollerStatus
>;

// Where they always were, for the scripts and tests that start stacks and servers of their own.
export { assertPortFree, freePort } from './ports';

export type EngineName =
  | 'dynamodb'
  | 'dynamodb-fidelity'
  | 'sqs'
  | 'ses'
  | 'stripe-sandbox'
  | 'gateway'
  | 'stream-poller'
  | 'queue-poller'
  | 'recharge-stream-poller'
  | 'usage-rollups-stream-poller'
  | 'table-mirror'
  | 'webhooks-queue-poller'
  | 'lane-sweeper';

export interface LocalStack extends LocalStackInfo {
  info: LocalStackInfo;
  /** Kills an engine the way a crash would (SIGKILL for DynamoDB Local), for fault tests; `holdDown` delays its restart. */
  kill(engine: EngineName, opts?: KillOptions): Promise<void>;
  /** The process id of an engine that runs as its own process (DynamoDB Local). */
  pid(engine: EngineName): number | undefined;
  /** 'restart', 'back' and 'fatal' as they happen. */
  events: Supervisor['events'];
  restarts: RestartEvent[];
  /** Settles once an engine kept dying and the whole stack was stopped: time to exit non-zero. */
  fatal: Promise<Error>;
  /** The fidelity proxy, when `dynamoFidelity` asked for it (its stats, reset and configure). */
  fidelity: FidelityProxy | undefined;
  /** Per function, with `lambdaConcurrency` above 1: containers running, idle, invocations waiting, cold starts. */
  lambdaStats(): Record<string, { containers: number; idle: number; waiting: number; coldStarts: number }>;
  stop(): Promise<void>;
}

const portOf = (url: string) => Number(new URL(url).port);

/** How long a request waits for one of a function's containers when all are busy (then 503), with `lambdaConcurrency`. */
const LAMBDA_WAIT_MS = 10_000;

/**
 * Starts the whole system on this machine: DynamoDB Local, local SQS and SES, the gateway
 * and both pollers, and points the AWS SDK of this process (which runs every handler, or with
 * `lambdaConcurrency` forks the container processes that do) at them through the standard
 * AWS_ENDPOINT_URL_* variables: handlers cannot tell they are local.
 * Each engine is supervised: one that dies comes back on the same port (the variables stay
 * true) with the same data; one that keeps dying stops the stack and settles `fatal`.
 */
export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const log = opts.log ?? (() => {});
  const tableName = opts.tableName ?? 'agency-accounts';
  const secrets = loadLocalSecrets(opts.dataDir);
  const supervisor = createSupervisor({ log, policy: opts.restartPolicy });

  const fixed = {
    PORT: opts.ports?.api,
    SES_PORT: opts.ports?.ses,
    DYNAMODB_PORT: opts.dynamoEndpoint ? undefined : opts.ports?.dynamodb,
    SQS_PORT: opts.ports?.sqs,
    STRIPE_SANDBOX_PORT: opts.ports?.stripe,
  };
  for (const [name, port] of Object.entries(fixed)) if (port) await assertPortFree(port, name);

  try {
    const dynamo = await stackDynamo(supervisor, {
      external: opts.dynamoEndpoint,
      port: opts.ports?.dynamodb,
      dataDir: opts.dataDir && !opts.inMemoryDb ? join(opts.dataDir, 'dynamodb') : undefined,
      tableName,
      fidelity: opts.dynamoFidelity,
      log,
    });
    const dynamoEndpoint = dynamo.endpoint;

    // The emulators run in this process; a restart listens again on the port the first start got.
    let queues: LocalQueues | undefined;
    await supervisor.add({
      name: 'sqs',
      async start() {
        queues = await startLocalQueues(
          queues ? portOf(queues.endpoint) : (opts.ports?.sqs ?? 0),
          opts.queueVisibilitySeconds ?? 5,
        );
        return serverInstance(queues.server);
      },
      restartLoses: '(in memory: its queues are re-created empty, the messages they held are lost)',
    });
    let sesEndpoint: string | undefined;
    await supervisor.add({
      name: 'ses',
      async start() {
        const ses = await startLocalSes(sesEndpoint ? portOf(sesEndpoint) : (opts.ports?.ses ?? 0));
        sesEndpoint = ses.endpoint;
        return serverInstance(ses.server);
      },
    });
    if (!queues || !sesEndpoint) throw new Error('unreachable: the emulators have started');
    const { endpoint: sqsEndpoint, urls: queueUrls } = queues;
    const sesUrl = sesEndpoint;

    const apiPort = opts.ports?.api ?? (await freePort());
    const apiBase = `http://127.0.0.1:${apiPort}`;
    const stripe = await startStripe(supervisor, secrets, apiBase, opts, log);
    const env: Record<string, string> = {
      AWS_REGION: localRegion,
      AWS_ACCESS_KEY_ID: localCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: localCredentials.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      AWS_ENDPOINT_URL_SES: sesUrl,
      TABLE_NAME: tableName,
      NOTIFICATIONS_QUEUE_URL: queueUrls.notifications.queue,
      WEBHOOKS_QUEUE_URL: queueUrls.webhooks.queue,
      // The local runtime only: webhooks may go to http://127.0.0.1 / localhost (never deployed).
      WEBHOOKS_ALLOW_LOOPBACK_HTTP: 'true',
      ...(opts.webhooks?.retryDelaysSeconds && { WEBHOOK_RETRY_DELAYS_SECONDS: opts.webhooks.retryDelaysSeconds.join(',') }),
      ...(opts.webhooks?.timeoutMs && { WEBHOOK_TIMEOUT_MS: String(opts.webhooks.timeoutMs) }),
      ...(opts.webhooks?.dailyCap && { AUTO_RECHARGE_DAILY_CAP: String(opts.webhooks.dailyCap) }),
      TOKEN_SECRET: secrets.tokenSecret,
      PLATFORM_API_KEY: secrets.platformApiKey,
      LOCAL_ENCRYPTION_KEY: secrets.encryptionKey,
      STRIPE_API_BASE: stripe.apiBase,
      STRIPE_SECRET_KEY: secrets.stripeSecretKey,
      STRIPE_WEBHOOK_SECRET: secrets.stripeWebhookSecret,
      STRIPE_CONNECT_WEBHOOK_SECRET: secrets.stripeConnectWebhookSecret,
      // The reselling settings, defaults filled in, as CDK passes them to the functions (config.ts).
      ...Object.fromEntries(Object.values(resellingSettings).map((s) => [s.env, process.env[s.env] || s.default])),
      EMAIL_FROM: process.env.EMAIL_FROM || 'no-reply@agency-accounts.local',
      // The console, at the API's origin: the credentials email links to its sign-in page, other
      // emails to its verify-email and reset-password pages (token= in the query), and Checkout
      // and Connect send the browser back to it.
      APP_LOGIN_URL: process.env.APP_LOGIN_URL || `http://127.0.0.1:${apiPort}/sign-in`,
      APP_URL: process.env.APP_URL || `http://127.0.0.1:${apiPort}`,
      // EMF metrics are one stdout line per invocation: noise locally unless asked for.
      POWERTOOLS_METRICS_DISABLED: process.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    };
    Object.assign(process.env, env);

    // One container process per request (or batch), as Lambda runs them, when asked for.
    const concurrency = Math.max(1, Math.floor(opts.lambdaConcurrency ?? 1));
    const runtime: LambdaRuntime | undefined =
      concurrency > 1 ? lambdaRuntime({ concurrency, log, maxWaitMs: LAMBDA_WAIT_MS }) : undefined;

    let apiUrl = '';
    await supervisor.add({
      name: 'gateway',
      async start() {
        const gateway = await startGateway(apiPort, opts.accessLog ? log : () => {}, {
          testClock: opts.testClock,
          consoleDist: opts.consoleDist,
          invoke: runtime && ((fn, event, clock) => runtime.invoke(fn, event, clock)),
        });
        apiUrl = gateway.url;
        return serverInstance(gateway.server);
      },
    });

    const handlers = await workerHandlers(runtime);
    // The pollers read the stream from the engine itself: the fidelity proxy meters writes, not stream reads.
    const streamArn = () => streamArnOf(dynamo.engine, tableName);
    // Each poller batches as its event source is declared, its window shortened when asked.
    const sourced = (source: StreamSource): StreamSource => ({
      ...source,
      maxBatchingWindowSeconds: Math.min(source.maxBatchingWindowSeconds, opts.streamWindowSeconds ?? Number.POSITIVE_INFINITY),
    });
    // The running instance of each (a restarted poller counts from 0 again: passes and
    // caught-up pass stay comparable).
    const streamPollers: Partial<
      Record<keyof StreamPollersStatus, Pick<ReturnType<typeof startStreamPoller>, 'status' | 'wake'>>
    > = {};
    const statusOf = (name: keyof StreamPollersStatus): StreamPollerStatus =>
      streamPollers[name]?.status() ?? { passes: 0, caughtUpThrough: 0, handled: 0 };
    /** A reader of the table's stream, as one event source mapping is deployed (each its own filter and batching). */
    const addStreamPoller = (
      name: keyof StreamPollersStatus,
      reader: Omit<Parameters<typeof startStreamPoller>[0], 'endpoint' | 'streamArn' | 'log'>,
    ) =>
      supervisor.add({
        name,
        start: async () => {
          const poller = startStreamPoller({ endpoint: dynamo.engine, streamArn, log, ...reader });
          streamPollers[name] = poller;
          return loopInstance(poller);
        },
      });
    if (dynamo.streams) {
      await addStreamPoller('stream-poller', {
        handler: handlers.forwarder,
        functionName: 'forwarder',
        source: sourced(streamSourceDefinition),
      });
    }
    const def = queueDefinitions.notifications;
    const queueUrl = queueUrls.notifications.queue;
    await supervisor.add({
      name: 'queue-poller',
      start: async () =>
        loopInstance(
          startQueuePoller({
            endpoint: sqsEndpoint,
            queueUrl,
            queueName: def.name,
            batchSize: def.batchSize,
            handler: handlers.notifier,
            functionName: 'notifier',
            // With containers, as many batches at once as the function has (Lambda scales SQS pollers up to it).
            concurrency: runtime ? concurrency : 1,
            log,
          }),
        ),
    });

    // The recharge detector: its own reader of the stream with its own filter, as its own
    // event source mapping is deployed; and the webhook sender, several batches at once.
    if (dynamo.streams) {
      await addStreamPoller('recharge-stream-poller', {
        handler: handlers.detector,
        functionName: 'recharge-detector',
        filters: rechargeStreamFilters,
        // As deployed: no batching window (a wallet drop is acted on at once).
        source: { ...streamSourceDefinition, maxBatchingWindowSeconds: 0 },
      });
      // The usage rollups: a third reader of the stream, large batches, the shard named in each.
      await addStreamPoller('usage-rollups-stream-poller', {
        handler: handlers.rollups,
        functionName: 'usage-rollups',
        filters: usageRollupSource.filters,
        source: sourced(usageRollupSource),
      });
    }
    // The test stack's copy of the table: one more reader of the stream, every record.
    const mirror = opts.tableMirror && dynamo.streams ? tableMirror() : undefined;
    if (mirror)
      await supervisor.add({
        name: 'table-mirror',
        start: async () => {
          const reader = startStreamPoller({ endpoint: dynamo.engine, streamArn, log, ...mirror.poller });
          mirror.attach(reader);
          return loopInstance(reader);
        },
      });
    const webhooks = queueDefinitions.webhooks;
    await supervisor.add({
      name: 'webhooks-queue-poller',
      start: async () =>
        loopInstance(
          startQueuePoller({
            endpoint: sqsEndpoint,
            queueUrl: queueUrls.webhooks.queue,
            queueName: webhooks.name,
            batchSize: webhooks.batchSize,
            handler: handlers.sender,
            functionName: 'webhook-sender',
            concurrency: runtime ? concurrency : 4,
            log,
          }),
        ),
    });
    // The scheduled lane sweeper, as its EventBridge rule runs it.
    await supervisor.add({
      name: 'lane-sweeper',
      start: async () =>
        loopInstance(
          startSchedule({
            name: 'lane sweeper',
            functionName: 'lane-sweeper',
            everyMs: (opts.laneSweepSeconds ?? laneSweeperSchedule.everySeconds) * 1000,
            // EventBridge's scheduled event: the sweeper reads none of it.
            run: (context) => handlers.sweeper({}, context),
            log,
          }),
        ),
    });
    const status = opts.pollerStatus
      ? await startStatusServer({
          streams: () => {
            // Asked means a test waits on the pipeline: poll now rather than at the idle rate.
            for (const poller of Object.values(streamPollers)) poller.wake();
            return {
              'stream-poller': statusOf('stream-poller'),
              'recharge-stream-poller': statusOf('recharge-stream-poller'),
              'usage-rollups-stream-poller': statusOf('usage-rollups-stream-poller'),
            };
          },
          mirror,
        })
      : undefined;

    const info: LocalStackInfo = {
      apiUrl,
      sesUrl,
      dynamoEndpoint,
      sqsEndpoint,
      tableName,
      queueUrls: {
        notifications: queueUrl,
        notificationsDlq: queueUrls.notifications.dlq,
        webhooks: queueUrls.webhooks.queue,
        webhooksDlq: queueUrls.webhooks.dlq,
      },
      platformApiKey: secrets.platformApiKey,
      stripeApiBase: stripe.apiBase,
      stripeSandboxUrl: stripe.sandboxUrl,
      statusUrl: status?.url ?? null,
      fidelityUrl: dynamo.fidelity?.url ?? null,
      lambdaConcurrency: concurrency,
      env,
    };
    return {
      ...info,
      info,
      kill: (engine, killOpts) => supervisor.kill(engine, killOpts),
      pid: (engine) => supervisor.pid(engine),
      events: supervisor.events,
      restarts: supervisor.restarts,
      fatal: supervisor.fatal,
      fidelity: dynamo.fidelity,
      lambdaStats: () => runtime?.stats() ?? {},
      stop: async () => {
        status?.close();
        await supervisor.stop();
        await runtime?.stop();
      },
    };
  } catch (err) {
    await supervisor.stop();
    throw err;
  }
}

/**
 * The local Stripe sandbox, supervised like the other engines, sending the events the platform
 * subscribes to, signed, to the gateway's webhook routes. Skipped with `externalStripe`: then
 * the platform talks to Stripe itself (test mode) and `stripe listen` forwards its events.
 */
async function startStripe(
  supervisor: Supervisor,
  secrets: ReturnType<typeof loadLocalSecrets>,
  apiBase: string,
  opts: LocalStackOptions,
  log: (line: string) => void,
): Promise<{ apiBase: string; sandboxUrl: string | null }> {
  if (opts.externalStripe) return { apiBase: opts.externalStripe, sandboxUrl: null };
  let sandbox: StripeSandbox | undefined;
  await supervisor.add({
    name: 'stripe-sandbox',
    async start() {
      sandbox = await startStripeSandbox({
        port: sandbox?.port ?? opts.ports?.stripe ?? 0,
        secretKey: secrets.stripeSecretKey,
        webhookSecret: secrets.stripeWebhookSecret,
        connectWebhookSecret: secrets.stripeConnectWebhookSecret,
        platformWebhookUrl: `${apiBase}/v1/webhooks/stripe`,
        connectWebhookUrl: `${apiBase}/v1/webhooks/stripe/connect`,
        enabledEvents: [...stripeEventTypes],
        retry: opts.stripeRetry,
        log,
      });
      const running = sandbox;
      const death = deathNotice();
      return {
        onDeath: death.onDeath,
        stop: () => running.stop(),
        kill: async () => {
          await running.stop();
          death.tell('stopped listening');
        },
      };
    },
    restartLoses: '(in memory: it comes back as a fresh Stripe account; connect agencies again)',
  });
  if (!sandbox) throw new Error('unreachable: the sandbox has started');
  return { apiBase: sandbox.url, sandboxUrl: sandbox.url };
}
