import { readFileSync } from 'node:fs';
import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { resellingSettings } from '#domain/reselling/config';
import { tableKeyPrefixes } from '#http/functions';
import { httpFunctions, routes, throttleClassOf } from '#http/routes';
import {
  laneSweeperSchedule,
  outboxStreamFilter,
  queueDefinitions,
  streamSourceDefinition,
  usageRollupSource,
  usageRollupStreamFilter,
} from '#queues/definitions';
import type { AppFunction } from '../../infra/constructs/app-function';
import { type Synthesized, synthApp } from './synth-app';

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[] };

describe('stateless stack', () => {
  let synth: Synthesized;
  let resources: Record<string, Resource>;
  const logicalId = (f: AppFunction) => synth.stacks.stateless.getLogicalId(f.fn.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    // Canaries: were the environment's secrets ever copied into the template, they would show.
    process.env.TOKEN_SECRET = 'canary-token-secret-3f9d';
    process.env.PLATFORM_API_KEY = 'canary-platform-key-7a1c';
    process.env.STRIPE_SECRET_KEY = 'sk_test_canary_5e2b';
    process.env.STRIPE_WEBHOOK_SECRET = 'whsec_canary_91d0';
    synth = synthApp({ bundle: false, cfnValidation: false });
    resources = synth.stateless.toJSON().Resources as Record<string, Resource>;
  });

  it('has one route per route-table entry, integrated with the Lambda of its fn, plus $default', () => {
    const routeTarget = new Map(
      ofType('AWS::ApiGatewayV2::Route').map(([, r]) => [r.Properties.RouteKey as string, r.Properties.Target]),
    );
    const fnOfIntegration = (target: any) => {
      const integrationId = target['Fn::Join'][1][1].Ref as string;
      return resources[integrationId]!.Properties.IntegrationUri['Fn::GetAtt'][0] as string;
    };
    const functions = synth.stacks.stateless.httpFunctions;
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      expect(routeTarget.has(key), key).toBe(true);
      expect([key, fnOfIntegration(routeTarget.get(key))]).toEqual([key, logicalId(functions[route.fn])]);
    }
    expect(fnOfIntegration(routeTarget.get('$default'))).toBe(logicalId(functions.fallback));
    expect(routeTarget.size).toBe(routes.length + 1);
  });

  it('runs every function on nodejs24.x, arm64, traced, with source maps and its own log group', () => {
    const fns = ofType('AWS::Lambda::Function');
    // + forwarder, notifier, recharge detector, webhook sender, usage rollups, lane sweeper
    expect(fns).toHaveLength(httpFunctions.length + 6);
    for (const [id, f] of fns) {
      const p = f.Properties;
      expect([id, p.Runtime, p.Architectures, p.TracingConfig]).toEqual([id, 'nodejs24.x', ['arm64'], { Mode: 'Active' }]);
      expect([id, p.Environment.Variables.NODE_OPTIONS]).toEqual([id, '--enable-source-maps']);
      expect(resources[p.LoggingConfig.LogGroup.Ref]?.Type).toBe('AWS::Logs::LogGroup');
    }
    for (const [, g] of ofType('AWS::Logs::LogGroup')) expect(g.Properties.RetentionInDays).toBe(30);
  });

  it('is built and tested on the Node major Lambda runs: .nvmrc, engines and this very process', () => {
    const runtimes = new Set(ofType('AWS::Lambda::Function').map(([, f]) => f.Properties.Runtime as string));
    const major = Number(/^nodejs(\d+)\.x$/.exec([...runtimes].join())?.[1]);
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };
    expect([readFileSync('.nvmrc', 'utf8').trim(), pkg.engines.node]).toEqual([String(major), `>=${major}`]);
    // .ci/run brings this Node when the machine's is older; run by hand on an older one, this says so.
    expect(
      Number(process.versions.node.split('.')[0]),
      `Node ${process.version}: use Node ${major} (.nvmrc)`,
    ).toBeGreaterThanOrEqual(major);
  });

  it('gives the notifier the queue consumer timeout, within the queue visibility timeout', () => {
    const def = queueDefinitions.notifications;
    const notifier = resources[logicalId(synth.stacks.stateless.notifier)]!;
    expect(notifier.Properties.Timeout).toBe(def.consumerTimeoutSeconds);
    expect(def.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * def.consumerTimeoutSeconds);
  });

  it('filters the stream to outbox inserts, bisects, retries until a record is a day old and keeps what fails', () => {
    const s = streamSourceDefinition;
    synth.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(synth.stacks.stateless.forwarder) },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(outboxStreamFilter) }] },
      BatchSize: s.batchSize,
      MaximumBatchingWindowInSeconds: s.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 86_400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('feeds the usage rollups usage inserts in large batches, names the shard (a window), bisects, keeps what fails', () => {
    const r = usageRollupSource;
    synth.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(synth.stacks.stateless.usageRollups) },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify(usageRollupStreamFilter) }] },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: r.batchSize,
      MaximumBatchingWindowInSeconds: r.maxBatchingWindowSeconds,
      TumblingWindowInSeconds: r.tumblingWindowSeconds,
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 86_400,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    // The batching is the point: a batch of at least a thousand, gathered for a few seconds.
    expect(r.batchSize).toBeGreaterThanOrEqual(1_000);
    expect(r.maxBatchingWindowSeconds).toBeGreaterThanOrEqual(2);
    // Usage types only, inserts only.
    expect(usageRollupStreamFilter.dynamodb.NewImage.type.S).toEqual(['ai_response', 'campaign_message']);
  });

  it('gives the usage rollups a read-modify-write on the rollup partitions and nothing else on the table', () => {
    const rollups = synth.stacks.stateless.usageRollups;
    expect(tableStatements(rollups).map((st) => [st.Action, st.Condition])).toEqual([
      [
        ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
        { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ROLLUP#*'] } },
      ],
    ]);
    expect(tableKeyPrefixes['usage-rollups']).toEqual(['ROLLUP#']);
  });

  it('runs the lane sweeper on its schedule, with the balances and lanes and nothing else on the table', () => {
    const sweeper = synth.stacks.stateless.laneSweeper;
    synth.stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${laneSweeperSchedule.everySeconds / 60} minute)`,
      Targets: [{ Arn: { 'Fn::GetAtt': [logicalId(sweeper), 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 0 } }],
    });
    const prefixes = tableStatements(sweeper).flatMap(
      (st) => st.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? [],
    );
    expect(new Set(prefixes)).toEqual(new Set(['ACCOUNT#*', 'LANE#*']));
    expect(tableKeyPrefixes['lane-sweeper']).toEqual(['ACCOUNT#', 'LANE#']);
  });

  it('consumes the notifications queue with partial batch responses', () => {
    synth.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(synth.stacks.stateless.notifier) },
      BatchSize: queueDefinitions.notifications.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('throttles the stage and writes access logs to a log group', () => {
    synth.stateless.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      DefaultRouteSettings: { ThrottlingRateLimit: Match.anyValue(), ThrottlingBurstLimit: Match.anyValue() },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] }, Format: Match.anyValue() },
    });
  });

  it('gives the Parameters and Secrets extension to exactly the functions that read secrets', () => {
    for (const [name, f] of Object.entries(synth.stacks.stateless.httpFunctions)) {
      const props = resources[logicalId(f)]?.Properties ?? {};
      const readsSecrets = Object.keys(props.Environment?.Variables ?? {}).some((k) => k.endsWith('_ARN'));
      const layers = JSON.stringify(props.Layers ?? []);
      expect([name, layers.includes('Paramsandsecretslayer')]).toEqual([name, readsSecrets]);
    }
  });

  it('passes secrets by ARN only: no secret value in the template', () => {
    const json = JSON.stringify(synth.stateless.toJSON()) + JSON.stringify(synth.stateful.toJSON());
    expect(json).not.toContain(process.env.TOKEN_SECRET);
    expect(json).not.toContain(process.env.PLATFORM_API_KEY);
    expect(json).not.toContain(process.env.STRIPE_SECRET_KEY);
    expect(json).not.toContain(process.env.STRIPE_WEBHOOK_SECRET);
    for (const [id, f] of ofType('AWS::Lambda::Function')) {
      const vars = f.Properties.Environment.Variables as Record<string, unknown>;
      for (const name of [
        'TOKEN_SECRET',
        'PLATFORM_API_KEY',
        'LOCAL_ENCRYPTION_KEY',
        'STRIPE_SECRET_KEY',
        'STRIPE_WEBHOOK_SECRET',
        'STRIPE_CONNECT_WEBHOOK_SECRET',
      ]) {
        expect([id, name in vars]).toEqual([id, false]);
      }
      for (const name of [
        'TOKEN_SECRET_ARN',
        'PLATFORM_API_KEY_ARN',
        'STRIPE_SECRET_KEY_ARN',
        'STRIPE_WEBHOOK_SECRET_ARN',
        'STRIPE_CONNECT_WEBHOOK_SECRET_ARN',
      ]) {
        // A reference resolved at deploy time, never a literal string.
        if (name in vars) expect([id, typeof vars[name]]).toEqual([id, 'object']);
      }
    }
  });

  it('scopes table, key, secret and SES access to the functions that use them', () => {
    const actionsOf = (f: AppFunction) => {
      const role = synth.stacks.stateless.getLogicalId(f.role.node.defaultChild as CfnElement);
      return ofType('AWS::IAM::Policy')
        .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string }) => [st.Action].flat()));
    };
    const { httpFunctions: http, forwarder, notifier, rechargeDetector, webhookSender } = synth.stacks.stateless;
    const all = [...Object.values(http), forwarder, notifier, rechargeDetector, webhookSender];
    const holders = (action: string) => all.filter((f) => actionsOf(f).includes(action)).map((f) => f.node.id);

    expect(actionsOf(http.fallback).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))).toEqual([]);
    // Seal what is emailed: generated passwords, verification and reset tokens.
    // …and webhook signing secrets (auto-recharge), which only its routes and the sender open.
    expect(holders('kms:Encrypt')).toEqual(['Http-public', 'Http-identity', 'Http-sub-accounts', 'Http-auto-recharge']);
    expect(holders('kms:Decrypt')).toEqual(['Http-auto-recharge', 'Notifier', 'WebhookSender']);
    expect(holders('ses:SendEmail')).toEqual(['Notifier']);
    expect(holders('sqs:SendMessage')).toEqual(['Http-auto-recharge', 'Forwarder', 'RechargeDetector', 'WebhookSender']);
    expect(holders('dynamodb:Scan')).toEqual([]);
    expect(
      actionsOf(notifier)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem']);
    expect(holders('secretsmanager:DescribeSecret')).toEqual([]);
    expect(holders('secretsmanager:GetSecretValue')).not.toContain('Notifier');
  });

  it('grants no managed policies, and wildcards only for X-Ray and ListStreams', () => {
    for (const [id, role] of ofType('AWS::IAM::Role')) expect([id, role.Properties.ManagedPolicyArns]).toEqual([id, undefined]);
    for (const [, policy] of ofType('AWS::IAM::Policy')) {
      for (const st of policy.Properties.PolicyDocument.Statement) {
        if (st.Resource !== '*') continue;
        for (const action of [st.Action].flat()) {
          expect(['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'dynamodb:ListStreams']).toContain(action);
        }
      }
    }
  });

  it('serves the Stripe webhook routes with no authorizer (the signature is the authentication)', () => {
    const webhookRoutes = routes.filter((r) => r.fn === 'stripe-webhooks');
    expect(webhookRoutes.map((r) => `${r.method} ${r.path}`).sort()).toEqual([
      'POST /v1/webhooks/stripe',
      'POST /v1/webhooks/stripe/connect',
    ]);
    for (const r of webhookRoutes) {
      synth.stateless.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: `${r.method} ${r.path}`,
        AuthorizationType: 'NONE',
      });
      expect(r.allow).toEqual([]);
    }
  });

  it("gives Stripe's secrets only to the functions that use them, and the webhooks nothing else", () => {
    const stateful = synth.stacks.stateful;
    const idOf = (s: { node: { defaultChild?: unknown } }) => stateful.getLogicalId(s.node.defaultChild as CfnElement);
    const policiesOf = (f: AppFunction) => {
      const role = synth.stacks.stateless.getLogicalId(f.role.node.defaultChild as CfnElement);
      return ofType('AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role));
    };
    const secretsOf = (f: AppFunction) =>
      policiesOf(f)
        .flatMap(([, p]) => p.Properties.PolicyDocument.Statement)
        .filter((st: { Action: string }) => [st.Action].flat().includes('secretsmanager:GetSecretValue'))
        .flatMap((st: { Resource: unknown }) => [st.Resource].flat())
        .map((r: unknown) => JSON.stringify(r));
    const secretIds = {
      token: idOf(stateful.tokenSecret),
      platform: idOf(stateful.platformApiKey),
      stripeKey: idOf(stateful.stripeSecretKey),
      webhook: idOf(stateful.stripeWebhookSecret),
      connect: idOf(stateful.stripeConnectWebhookSecret),
    };
    const { httpFunctions: http, forwarder, notifier, rechargeDetector, webhookSender } = synth.stacks.stateless;
    const all = [...Object.values(http), forwarder, notifier, rechargeDetector, webhookSender];
    const holders = (logicalId: string) =>
      all.filter((f) => secretsOf(f).some((r) => r.includes(logicalId))).map((f) => f.node.id);
    // The recharge detector charges a saved card off session for an agency's auto top-up.
    expect(holders(secretIds.stripeKey)).toEqual(['Http-reselling', 'RechargeDetector']);
    expect(holders(secretIds.webhook)).toEqual(['Http-stripe-webhooks']);
    expect(holders(secretIds.connect)).toEqual(['Http-stripe-webhooks']);
    // The webhook function reads its two signing secrets and the table: no token key, no platform key, no Stripe API key.
    const hooks = http['stripe-webhooks'];
    expect(secretsOf(hooks)).toHaveLength(2);
    expect(holders(secretIds.token)).not.toContain('Http-stripe-webhooks');
    expect(holders(secretIds.platform)).not.toContain('Http-stripe-webhooks');
    const hookActions = policiesOf(hooks).flatMap(([, p]) =>
      p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string }) => [st.Action].flat()),
    );
    expect(hookActions.filter((a: string) => a.startsWith('kms:') || a.startsWith('ses:') || a.startsWith('sqs:'))).toEqual([]);
    const vars = resources[logicalId(hooks)]!.Properties.Environment.Variables as Record<string, unknown>;
    expect(
      Object.keys(vars)
        .filter((k) => k.endsWith('_ARN'))
        .sort(),
    ).toEqual(['STRIPE_CONNECT_WEBHOOK_SECRET_ARN', 'STRIPE_WEBHOOK_SECRET_ARN']);
  });

  it('passes the reselling settings to the functions that read them, from CDK context (defaults otherwise); a bad one fails the synth', () => {
    const envOf = (s: Synthesized, fn: 'reselling' | 'stripe-webhooks') => {
      const id = s.stacks.stateless.getLogicalId(s.stacks.stateless.httpFunctions[fn].fn.node.defaultChild as CfnElement);
      return (s.stateless.toJSON().Resources as Record<string, Resource>)[id]!.Properties.Environment.Variables;
    };
    for (const fn of ['reselling', 'stripe-webhooks'] as const) {
      for (const setting of Object.values(resellingSettings))
        expect([fn, envOf(synth, fn)[setting.env]]).toEqual([fn, setting.default]);
    }
    expect(envOf(synth, 'reselling').STRIPE_API_BASE).toBeUndefined(); // deployed: Stripe itself
    const custom = synthApp({
      bundle: false,
      cfnValidation: false,
      context: { resellingMinimumCreditPrice: 'usd:2,eur:2,gbp:1.5', stripeLivemode: 'true' },
    });
    expect(envOf(custom, 'reselling').RESELLING_MINIMUM_CREDIT_PRICE).toBe('usd:2,eur:2,gbp:1.5');
    expect(envOf(custom, 'stripe-webhooks').STRIPE_LIVEMODE).toBe('true');
    // A fee above the minimum would let the platform take more than the client pays.
    expect(() =>
      synthApp({ bundle: false, cfnValidation: false, context: { resellingApplicationFee: 'usd:5,eur:0.2,gbp:0.2' } }),
    ).toThrow(/RESELLING_APPLICATION_FEE/);
  });

  it('fails the synth unless the Stripe mode is chosen: stripeLivemode has no deployed default', () => {
    const synthWith = (stripeLivemode: unknown) => synthApp({ bundle: false, cfnValidation: false, context: { stripeLivemode } });
    expect(() => synthWith(undefined)).toThrow(/CDK context stripeLivemode is required/);
    expect(() => synthWith('yes')).toThrow(/STRIPE_LIVEMODE: true or false/);
    // cdk.json would hold a boolean; -c gives a string: either is the same choice.
    const envOf = (s: Synthesized) => {
      const fn = s.stacks.stateless.httpFunctions['stripe-webhooks'].fn;
      const id = s.stacks.stateless.getLogicalId(fn.node.defaultChild as CfnElement);
      return (s.stateless.toJSON().Resources as Record<string, Resource>)[id]!.Properties.Environment.Variables;
    };
    expect(envOf(synthWith(false)).STRIPE_LIVEMODE).toBe('false');
    expect(envOf(synthWith(true)).STRIPE_LIVEMODE).toBe('true');
  });

  const statementsOf = (f: AppFunction) => {
    const role = synth.stacks.stateless.getLogicalId(f.role.node.defaultChild as CfnElement);
    return ofType('AWS::IAM::Policy')
      .filter(([, p]) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap(
        ([, p]) =>
          p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown; Condition?: any }>,
      );
  };
  // The stream's own actions (on the stream, for an event source) are not table item access.
  const streamActions = ['dynamodb:ListStreams', 'dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'];
  const tableStatements = (f: AppFunction) =>
    statementsOf(f).filter((st) => [st.Action].flat().some((a) => a.startsWith('dynamodb:') && !streamActions.includes(a)));

  it('narrows every item permission to the key prefixes its function uses (dynamodb:LeadingKeys), indexes apart', () => {
    const { httpFunctions: http, notifier } = synth.stacks.stateless;
    const users = { ...http, notifier } as Record<keyof typeof tableKeyPrefixes, AppFunction>;
    for (const [name, f] of Object.entries(users) as Array<[keyof typeof tableKeyPrefixes, AppFunction]>) {
      const prefixes = tableKeyPrefixes[name];
      const statements = tableStatements(f);
      if (prefixes.length === 0) {
        expect([name, statements]).toEqual([name, []]);
        continue;
      }
      for (const st of statements) {
        const onIndex = JSON.stringify(st.Resource).includes('/index/');
        if (onIndex) {
          // Index queries only, never an item action.
          expect([name, [st.Action].flat()]).toEqual([name, ['dynamodb:Query']]);
        } else {
          expect([name, st.Condition]).toEqual([
            name,
            { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) } },
          ]);
        }
      }
      expect([name, statements.some((st) => !JSON.stringify(st.Resource).includes('/index/'))]).toEqual([name, true]);
    }
  });

  it('grants no DynamoDB action the code does not use: no BatchWriteItem, no Scan', () => {
    const actions = ofType('AWS::IAM::Policy').flatMap(([, p]) =>
      p.Properties.PolicyDocument.Statement.flatMap((st: { Action: string }) => [st.Action].flat()),
    );
    expect(actions).not.toContain('dynamodb:BatchWriteItem');
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('dynamodb:*');
  });

  it('throttles each route by its class: sign-up, login and every anonymous write tight, metering wide', () => {
    const [, stage] = ofType('AWS::ApiGatewayV2::Stage')[0]!;
    const settings = stage.Properties.RouteSettings as Record<
      string,
      { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }
    >;
    const defaults = stage.Properties.DefaultRouteSettings;
    const auth = settings['POST /v1/agencies']!;
    const metering = settings['POST /v1/accounts/{accountId}/usage']!;
    expect(settings['POST /v1/auth/login']).toEqual(auth);
    expect(auth.ThrottlingRateLimit).toBeLessThan(defaults.ThrottlingRateLimit);
    expect(auth.ThrottlingBurstLimit).toBeLessThan(defaults.ThrottlingBurstLimit);
    expect(metering.ThrottlingRateLimit).toBeGreaterThan(defaults.ThrottlingRateLimit);
    for (const route of routes) {
      const key = `${route.method} ${route.path}`;
      const expected = { default: undefined, auth, metering }[throttleClassOf(route)];
      expect([key, settings[key]]).toEqual([key, expected]);
      if (route.allow.length === 0 && route.method !== 'GET') expect([key, settings[key]]).toEqual([key, auth]);
    }
    // Every route named in the settings exists before the stage (CloudFormation refuses unknown keys).
    const routeIds = ofType('AWS::ApiGatewayV2::Route')
      .filter(([, r]) => r.Properties.RouteKey in settings)
      .map(([id]) => id);
    expect(routeIds.length).toBe(Object.keys(settings).length);
    expect(routeIds.filter((id) => !stage.DependsOn?.includes(id))).toEqual([]);
  });

  it('reserves concurrency for the usage function only', () => {
    const reserved = ofType('AWS::Lambda::Function')
      .filter(([, f]) => f.Properties.ReservedConcurrentExecutions !== undefined)
      .map(([id, f]) => [id, f.Properties.ReservedConcurrentExecutions]);
    expect(reserved).toEqual([[logicalId(synth.stacks.stateless.httpFunctions.usage), 50]]);
  });
});
