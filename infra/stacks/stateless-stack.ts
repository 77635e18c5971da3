import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { workerTableKeyPrefixes as workerKeys } from '#db/access';
import { type HttpFunction, httpFunctionManifests } from '#http/functions';
import type { HttpFunctionManifest } from '#http/route-def';
import {
  laneSweeperSchedule,
  outboxStreamFilter,
  queueDefinitions,
  rechargeStreamFilters,
  streamSourceDefinition,
  usageRollupSource,
} from '#queues/definitions';
import { type AppConfig, readConfig, resellingEnvironment } from '../config';
import { AppFunction } from '../constructs/app-function';
import { RouteTableApi } from '../constructs/route-table-api';
import {
  grantKey,
  grantOutboxDelivery,
  grantReadModifyWrite,
  grantSecretValues,
  grantSendEmail,
  grantTableReadWrite,
} from '../grants';
import type { StatefulStack } from './stateful-stack';

export interface StatelessStackProps extends StackProps {
  data: StatefulStack;
}

/** The code: API, HTTP functions and the outbox workers. Safe to destroy and redeploy. */
export class StatelessStack extends Stack {
  readonly api: RouteTableApi;
  readonly httpFunctions = {} as Record<HttpFunction, AppFunction>;
  readonly forwarder: AppFunction;
  readonly notifier: AppFunction;
  readonly rechargeDetector: AppFunction;
  readonly webhookSender: AppFunction;
  readonly laneSweeper: AppFunction;
  readonly usageRollups: AppFunction;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { data } = props;
    const config = readConfig(this);

    const functions = {} as Record<HttpFunction, lambda.IFunction>;
    for (const manifest of httpFunctionManifests) {
      const { name } = manifest;
      // Metering keeps executions of its own: a flood elsewhere cannot starve it.
      const reserved = name === 'usage' && config.usageReservedConcurrency > 0 ? config.usageReservedConcurrency : undefined;
      this.httpFunctions[name] = this.httpFunction(manifest, data, config, reserved);
      functions[name] = this.httpFunctions[name].fn;
    }
    this.api = new RouteTableApi(this, 'Http', {
      functions,
      throttles: {
        default: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
        auth: { rateLimit: config.authRateLimit, burstLimit: config.authBurstLimit },
        metering: { rateLimit: config.meteringRateLimit, burstLimit: config.meteringBurstLimit },
      },
    });

    // Table stream → notifications queue. Only outbox inserts get through the filter, so
    // ordinary writes never invoke (or bill) the forwarder.
    this.forwarder = new AppFunction(this, 'Forwarder', {
      entry: 'functions/stream/forwarder.ts',
      description: 'Forwards committed outbox inserts from the table stream to the notifications queue',
      timeout: Duration.seconds(30),
      environment: { NOTIFICATIONS_QUEUE_URL: data.notifications.queueUrl },
      wildcardReasons: ['dynamodb:ListStreams comes from the DynamoEventSource grant and has no resource-level permissions'],
    });
    data.notifications.grantSendMessages(this.forwarder.fn);
    const s = streamSourceDefinition;
    this.forwarder.fn.addEventSource(
      new DynamoEventSource(data.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: s.batchSize,
        maxBatchingWindow: Duration.seconds(s.maxBatchingWindowSeconds),
        retryAttempts: s.retryAttempts,
        maxRecordAge: Duration.seconds(s.maxRecordAgeSeconds),
        bisectBatchOnError: s.bisectBatchOnError,
        reportBatchItemFailures: s.reportBatchItemFailures,
        filters: [lambda.FilterCriteria.filter(outboxStreamFilter)],
        onFailure: new SqsDlq(data.streamFailures),
      }),
    );

    // Notifications queue → SES. Partial batch responses: one bad message is retried alone
    // and, after maxReceiveCount, lands in the DLQ.
    const def = queueDefinitions.notifications;
    this.notifier = new AppFunction(this, 'Notifier', {
      entry: 'functions/queue/notifier.ts',
      description: 'Delivers outbox events: credential, verification and password reset emails through SES',
      timeout: Duration.seconds(def.consumerTimeoutSeconds),
      environment: {
        TABLE_NAME: data.table.tableName,
        EMAIL_FROM: config.emailFrom,
        APP_LOGIN_URL: config.appLoginUrl,
        APP_URL: config.appUrl,
      },
    });
    grantOutboxDelivery(this.notifier, data.table, workerKeys.notifier);
    grantKey(this.notifier, data.sealKey, 'kms:Decrypt');
    grantSendEmail(this.notifier, config.emailFrom);
    this.notifier.fn.addEventSource(
      new SqsEventSource(data.notifications, { batchSize: def.batchSize, reportBatchItemFailures: true }),
    );

    // Table stream (a second event source, its own filter) → recharge requests, and delivery
    // inserts → the webhooks queue.
    this.rechargeDetector = new AppFunction(this, 'RechargeDetector', {
      entry: 'functions/stream/recharge-detector.ts',
      description:
        "Opens auto-recharge requests when a wallet drops below its threshold; tops up an agency's pool from its saved card when it crosses the threshold; low-balance alerts; queues webhook deliveries",
      timeout: Duration.seconds(30),
      environment: {
        TABLE_NAME: data.table.tableName,
        WEBHOOKS_QUEUE_URL: data.webhooks.queueUrl,
        AUTO_RECHARGE_DAILY_CAP: String(config.autoRechargeDailyCap),
        AUTO_TOP_UP_DAILY_CAP: String(config.autoTopUpDailyCap),
        // Auto top-up charges the saved card off session (Stripe) at the platform's price (the reselling settings).
        STRIPE_SECRET_KEY_ARN: data.stripeSecretKey.secretArn,
        ...resellingEnvironment(config.reselling),
      },
      readsSecrets: true,
      wildcardReasons: ['dynamodb:ListStreams comes from the DynamoEventSource grant and has no resource-level permissions'],
    });
    grantTableReadWrite(this.rechargeDetector, data.table, workerKeys['recharge-detector']);
    grantSecretValues(this.rechargeDetector, [data.stripeSecretKey]);
    data.webhooks.grantSendMessages(this.rechargeDetector.fn);
    this.rechargeDetector.fn.addEventSource(
      new DynamoEventSource(data.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: s.batchSize,
        maxBatchingWindow: Duration.seconds(0),
        retryAttempts: s.retryAttempts,
        bisectBatchOnError: s.bisectBatchOnError,
        reportBatchItemFailures: s.reportBatchItemFailures,
        filters: rechargeStreamFilters.map((f) => lambda.FilterCriteria.filter(f)),
        onFailure: new SqsDlq(data.streamFailures),
      }),
    );

    // Webhooks queue → the agencies' endpoints. Retries are delayed re-sends to the same queue.
    const hooks = queueDefinitions.webhooks;
    this.webhookSender = new AppFunction(this, 'WebhookSender', {
      entry: 'functions/queue/webhook-sender.ts',
      description: 'Delivers auto-recharge webhooks (signed, pinned address, 10 s) and schedules their retries',
      timeout: Duration.seconds(hooks.consumerTimeoutSeconds),
      environment: { TABLE_NAME: data.table.tableName, WEBHOOKS_QUEUE_URL: data.webhooks.queueUrl },
    });
    grantTableReadWrite(this.webhookSender, data.table, workerKeys['webhook-sender']);
    grantKey(this.webhookSender, data.sealKey, 'kms:Decrypt');
    data.webhooks.grantSendMessages(this.webhookSender.fn);
    this.webhookSender.fn.addEventSource(
      new SqsEventSource(data.webhooks, { batchSize: hooks.batchSize, reportBatchItemFailures: true }),
    );

    // Every minute: lanes their containers stopped using give their credits back (ledger/lanes.ts).
    this.laneSweeper = new AppFunction(this, 'LaneSweeper', {
      entry: 'functions/scheduled/lane-sweeper.ts',
      description: "Returns idle lanes' credits to their balances",
      timeout: Duration.seconds(50),
      environment: { TABLE_NAME: data.table.tableName },
    });
    grantTableReadWrite(this.laneSweeper, data.table, workerKeys['lane-sweeper']);
    new events.Rule(this, 'LaneSweeperSchedule', {
      description: 'Sweeps idle lanes back into their balances',
      schedule: events.Schedule.rate(Duration.seconds(laneSweeperSchedule.everySeconds)),
      targets: [new targets.LambdaFunction(this.laneSweeper.fn, { retryAttempts: 0 })],
    });

    // Table stream (a third event source, its own filter and batching) → the usage rollups
    // the dashboards read. Declared once in packages/queues/definitions.ts (why so large a batch).
    const r = usageRollupSource;
    this.usageRollups = new AppFunction(this, 'UsageRollups', {
      entry: 'functions/stream/usage-rollups.ts',
      description: 'Adds usage entries from the table stream to the per-day and per-month usage rollups, exactly once',
      timeout: Duration.seconds(60),
      environment: { TABLE_NAME: data.table.tableName },
      wildcardReasons: ['dynamodb:ListStreams comes from the DynamoEventSource grant and has no resource-level permissions'],
    });
    grantReadModifyWrite(this.usageRollups, data.table, workerKeys['usage-rollups']);
    this.usageRollups.fn.addEventSource(
      new DynamoEventSource(data.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: r.batchSize,
        maxBatchingWindow: Duration.seconds(r.maxBatchingWindowSeconds),
        tumblingWindow: Duration.seconds(r.tumblingWindowSeconds),
        parallelizationFactor: r.parallelizationFactor,
        retryAttempts: r.retryAttempts,
        maxRecordAge: Duration.seconds(r.maxRecordAgeSeconds),
        bisectBatchOnError: r.bisectBatchOnError,
        filters: r.filters.map((f) => lambda.FilterCriteria.filter(f)),
        onFailure: new SqsDlq(data.streamFailures),
      }),
    );

    this.alarmOnServerErrors(data);
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
  }

  /**
   * A client's mistake is never a 5xx here: a 5xx is a bug (500) or a dependency failing (503),
   * both for an operator. Five in five minutes (summed over every route) raise the alarm.
   */
  private alarmOnServerErrors(data: StatefulStack): void {
    const alarm = new cloudwatch.Alarm(this, 'Api5xxAlarm', {
      alarmDescription: 'The HTTP API answered 5xx: a bug (500) or a dependency failing (503); see the functions logs',
      metric: this.api.api.metricServerError({ statistic: 'Sum', period: Duration.minutes(5) }),
      threshold: 5,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    data.notifyOperators(alarm);
  }

  /** An HTTP function as its manifest declares it (packages/http/routes/<group>.ts): given its needs, nothing else. */
  private httpFunction(
    manifest: HttpFunctionManifest,
    data: StatefulStack,
    config: AppConfig,
    reservedConcurrency?: number,
  ): AppFunction {
    const { name, needs, tableKeys: prefixes } = manifest;
    if (needs.includes('table') !== prefixes.length > 0) {
      throw new Error(`${name}: table access and its key prefixes (its manifest's tableKeys) must go together`);
    }
    const environment: Record<string, string> = {};
    if (name === 'sub-accounts') environment.SUB_ACCOUNT_QUOTA = String(config.subAccountQuota);
    if (needs.includes('table')) environment.TABLE_NAME = data.table.tableName;
    // secret(name) reads `${name}_ARN` and fetches the value once per container (packages/core/env.ts).
    if (needs.includes('tokenSecret')) environment.TOKEN_SECRET_ARN = data.tokenSecret.secretArn;
    if (needs.includes('platformApiKey')) environment.PLATFORM_API_KEY_ARN = data.platformApiKey.secretArn;
    if (needs.includes('sealEncrypt')) environment.KMS_KEY_ID = data.sealKey.keyArn;
    if (needs.includes('webhooksQueue')) environment.WEBHOOKS_QUEUE_URL = data.webhooks.queueUrl;
    if (needs.includes('stripeApi')) environment.STRIPE_SECRET_KEY_ARN = data.stripeSecretKey.secretArn;
    if (needs.includes('stripeWebhooks')) {
      environment.STRIPE_WEBHOOK_SECRET_ARN = data.stripeWebhookSecret.secretArn;
      environment.STRIPE_CONNECT_WEBHOOK_SECRET_ARN = data.stripeConnectWebhookSecret.secretArn;
    }
    if (needs.includes('resellingConfig')) Object.assign(environment, resellingEnvironment(config.reselling));

    const f = new AppFunction(this, `Http-${name}`, {
      entry: `functions/http/${name}.ts`,
      description: `HTTP API: the ${name} routes`,
      environment,
      readsSecrets: (['tokenSecret', 'platformApiKey', 'stripeApi', 'stripeWebhooks'] as const).some((n) => needs.includes(n)),
      reservedConcurrency,
    });
    if (needs.includes('table')) grantTableReadWrite(f, data.table, prefixes);
    grantSecretValues(f, [
      ...(needs.includes('tokenSecret') ? [data.tokenSecret] : []),
      ...(needs.includes('platformApiKey') ? [data.platformApiKey] : []),
      ...(needs.includes('stripeApi') ? [data.stripeSecretKey] : []),
      ...(needs.includes('stripeWebhooks') ? [data.stripeWebhookSecret, data.stripeConnectWebhookSecret] : []),
    ]);
    if (needs.includes('sealEncrypt')) grantKey(f, data.sealKey, 'kms:Encrypt');
    if (needs.includes('sealDecrypt')) grantKey(f, data.sealKey, 'kms:Decrypt');
    if (needs.includes('webhooksQueue')) data.webhooks.grantSendMessages(f.fn);
    return f;
  }
}
