import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { type HttpFunction, httpFunctions } from '../../packages/http/routes';
import { outboxStreamFilter, queueDefinitions, streamSourceDefinition } from '../../packages/queues/definitions';
import { type AppConfig, readConfig } from '../config';
import { AppFunction } from '../constructs/app-function';
import { RouteTableApi } from '../constructs/route-table-api';
import { grantKey, grantSecretValues, grantSendEmail, grantTableGetDelete, grantTableReadWrite } from '../grants';
import type { StatefulStack } from './stateful-stack';

export interface StatelessStackProps extends StackProps {
  data: StatefulStack;
}

/** What an HTTP function may touch; see `httpNeeds`. */
type Need = 'table' | 'tokenSecret' | 'platformApiKey' | 'sealEncrypt';

/**
 * An HTTP function not listed gets what an authenticated handler needs: the table, the token
 * key (sessions) and the platform key (authentication compares against it). The exceptions
 * are narrower, or wider, on purpose.
 */
const standardNeeds: Need[] = ['table', 'tokenSecret', 'platformApiKey'];
const httpNeeds: Partial<Record<HttpFunction, Need[]>> = {
  fallback: [], // matches the route table only: no data, no secrets
  docs: [], // serves the OpenAPI document: no data, no secrets
  // sign-up and login issue tokens; sign-up and password reset seal the emailed link's token; no route authenticates
  public: ['table', 'tokenSecret', 'sealEncrypt'],
  identity: [...standardNeeds, 'sealEncrypt'], // the verification resend seals its token
  'sub-accounts': [...standardNeeds, 'sealEncrypt'], // seals the generated password
};

/** The code: API, HTTP functions and the outbox workers. Safe to destroy and redeploy. */
export class StatelessStack extends Stack {
  readonly api: RouteTableApi;
  readonly httpFunctions = {} as Record<HttpFunction, AppFunction>;
  readonly forwarder: AppFunction;
  readonly notifier: AppFunction;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const { data } = props;
    const config = readConfig(this);

    const functions = {} as Record<HttpFunction, lambda.IFunction>;
    for (const name of httpFunctions) {
      this.httpFunctions[name] = this.httpFunction(name, httpNeeds[name] ?? standardNeeds, data, config);
      functions[name] = this.httpFunctions[name].fn;
    }
    this.api = new RouteTableApi(this, 'Http', {
      functions,
      rateLimit: config.apiRateLimit,
      burstLimit: config.apiBurstLimit,
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
    grantTableGetDelete(this.notifier, data.table);
    grantKey(this.notifier, data.sealKey, 'kms:Decrypt');
    grantSendEmail(this.notifier, config.emailFrom);
    this.notifier.fn.addEventSource(
      new SqsEventSource(data.notifications, { batchSize: def.batchSize, reportBatchItemFailures: true }),
    );

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
  }

  private httpFunction(name: HttpFunction, needs: Need[], data: StatefulStack, config: AppConfig): AppFunction {
    const environment: Record<string, string> = {};
    if (name === 'sub-accounts') environment.SUB_ACCOUNT_QUOTA = String(config.subAccountQuota);
    if (needs.includes('table')) environment.TABLE_NAME = data.table.tableName;
    // secret(name) reads `${name}_ARN` and fetches the value once per container (packages/core/env.ts).
    if (needs.includes('tokenSecret')) environment.TOKEN_SECRET_ARN = data.tokenSecret.secretArn;
    if (needs.includes('platformApiKey')) environment.PLATFORM_API_KEY_ARN = data.platformApiKey.secretArn;
    if (needs.includes('sealEncrypt')) environment.KMS_KEY_ID = data.sealKey.keyArn;

    const f = new AppFunction(this, `Http-${name}`, {
      entry: `functions/http/${name}.ts`,
      description: `HTTP API: the ${name} routes`,
      environment,
      readsSecrets: needs.includes('tokenSecret') || needs.includes('platformApiKey'),
    });
    if (needs.includes('table')) grantTableReadWrite(f, data.table);
    grantSecretValues(f, [
      ...(needs.includes('tokenSecret') ? [data.tokenSecret] : []),
      ...(needs.includes('platformApiKey') ? [data.platformApiKey] : []),
    ]);
    if (needs.includes('sealEncrypt')) grantKey(f, data.sealKey, 'kms:Encrypt');
    return f;
  }
}
