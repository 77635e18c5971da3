import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AppFunction } from '../../infra/constructs/app-function';
import { httpFunctions, routes } from '../../packages/http/routes';
import { outboxStreamFilter, queueDefinitions, streamSourceDefinition } from '../../packages/queues/definitions';
import { type Synthesized, synthApp } from './synth-app';

type Resource = { Type: string; Properties: Record<string, any> };

describe('stateless stack', () => {
  let synth: Synthesized;
  let resources: Record<string, Resource>;
  const logicalId = (f: AppFunction) => synth.stacks.stateless.getLogicalId(f.fn.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  beforeAll(() => {
    // Canaries: were the environment's secrets ever copied into the template, they would show.
    process.env.TOKEN_SECRET = 'canary-token-secret-3f9d';
    process.env.PLATFORM_API_KEY = 'canary-platform-key-7a1c';
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
    expect(fns).toHaveLength(httpFunctions.length + 2);
    for (const [id, f] of fns) {
      const p = f.Properties;
      expect([id, p.Runtime, p.Architectures, p.TracingConfig]).toEqual([id, 'nodejs24.x', ['arm64'], { Mode: 'Active' }]);
      expect([id, p.Environment.Variables.NODE_OPTIONS]).toEqual([id, '--enable-source-maps']);
      expect(resources[p.LoggingConfig.LogGroup.Ref]?.Type).toBe('AWS::Logs::LogGroup');
    }
    for (const [, g] of ofType('AWS::Logs::LogGroup')) expect(g.Properties.RetentionInDays).toBe(30);
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
    for (const [id, f] of ofType('AWS::Lambda::Function')) {
      const vars = f.Properties.Environment.Variables as Record<string, unknown>;
      for (const name of ['TOKEN_SECRET', 'PLATFORM_API_KEY', 'LOCAL_ENCRYPTION_KEY']) {
        expect([id, name in vars]).toEqual([id, false]);
      }
      for (const name of ['TOKEN_SECRET_ARN', 'PLATFORM_API_KEY_ARN']) {
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
    const { httpFunctions: http, forwarder, notifier } = synth.stacks.stateless;
    const all = [...Object.values(http), forwarder, notifier];
    const holders = (action: string) => all.filter((f) => actionsOf(f).includes(action)).map((f) => f.node.id);

    expect(actionsOf(http.fallback).filter((a) => !a.startsWith('logs:') && !a.startsWith('xray:'))).toEqual([]);
    // Seal what is emailed: generated passwords, verification and reset tokens.
    expect(holders('kms:Encrypt')).toEqual(['Http-public', 'Http-identity', 'Http-sub-accounts']);
    expect(holders('kms:Decrypt')).toEqual(['Notifier']);
    expect(holders('ses:SendEmail')).toEqual(['Notifier']);
    expect(holders('sqs:SendMessage')).toEqual(['Forwarder']);
    expect(holders('dynamodb:Scan')).toEqual([]);
    expect(
      actionsOf(notifier)
        .filter((a) => a.startsWith('dynamodb:'))
        .sort(),
    ).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem']);
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
});
