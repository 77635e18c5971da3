import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { tableDefinition } from '#db/schema';
import { queueDefinitions } from '#queues/definitions';
import { TOKEN_SECRET_ROTATION_DAYS } from '../../infra/stacks/stateful-stack';
import { type Synthesized, synthApp } from './synth-app';

describe('stateful stack', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthApp({ bundle: false, cfnValidation: false });
  });

  it('builds the table from tableDefinition: keys, GSIs, TTL, stream, PITR, on-demand', () => {
    const d = tableDefinition;
    const keySchema = (pk: string, sk: string) => [
      { AttributeName: pk, KeyType: 'HASH' },
      { AttributeName: sk, KeyType: 'RANGE' },
    ];
    synth.stateful.resourceCountIs('AWS::DynamoDB::Table', 1);
    synth.stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: keySchema(d.partitionKey, d.sortKey),
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: d.indexes.map((ix) => ({
        IndexName: ix.name,
        KeySchema: keySchema(ix.partitionKey, ix.sortKey),
        Projection: { ProjectionType: 'ALL' },
      })),
      TimeToLiveSpecification: { AttributeName: d.timeToLiveAttribute, Enabled: true },
      StreamSpecification: { StreamViewType: d.streamView },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('retains every stateful resource when it leaves the template', () => {
    for (const type of ['AWS::DynamoDB::Table', 'AWS::SQS::Queue', 'AWS::KMS::Key', 'AWS::SecretsManager::Secret']) {
      const all = synth.stateful.findResources(type);
      expect(Object.keys(all).length, type).toBeGreaterThan(0);
      for (const [id, r] of Object.entries(all)) {
        expect([id, r.DeletionPolicy, r.UpdateReplacePolicy]).toEqual([id, 'Retain', 'Retain']);
      }
    }
  });

  it('creates the notifications queue with redrive to its DLQ, TLS only and SQS-managed encryption', () => {
    const def = queueDefinitions.notifications;
    const dlqId = synth.stacks.stateful.getLogicalId(synth.stacks.stateful.notificationsDlq.node.defaultChild as never);
    synth.stateful.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: def.name,
      VisibilityTimeout: def.visibilityTimeoutSeconds,
      MessageRetentionPeriod: def.retentionDays * 86_400,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: def.maxReceiveCount },
    });
    synth.stateful.hasResourceProperties('AWS::SQS::Queue', { QueueName: def.dlqName });

    const queues = synth.stateful.findResources('AWS::SQS::Queue');
    for (const [id, q] of Object.entries(queues)) {
      expect([id, q.Properties.SqsManagedSseEnabled]).toEqual([id, true]);
      synth.stateful.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('rotates the sealing key', () => {
    synth.stateful.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('rotates the token secret monthly with its own function; the platform key is not rotated', () => {
    const { stateful } = synth.stacks;
    const id = (c: { node: { defaultChild?: unknown } }) => stateful.getLogicalId(c.node.defaultChild as never);
    const schedules = synth.stateful.findResources('AWS::SecretsManager::RotationSchedule');
    expect(Object.values(schedules).map((r) => r.Properties)).toEqual([
      {
        SecretId: { Ref: id(stateful.tokenSecret) },
        RotationLambdaARN: { 'Fn::GetAtt': [id(stateful.tokenSecretRotation.fn), 'Arn'] },
        RotationRules: { ScheduleExpression: `rate(${TOKEN_SECRET_ROTATION_DAYS} days)` },
      },
    ]);
    // Secrets Manager may invoke it; it may read and write this secret only (and draw random values).
    synth.stateful.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: { 'Fn::GetAtt': [id(stateful.tokenSecretRotation.fn), 'Arn'] },
      Principal: 'secretsmanager.amazonaws.com',
    });
    const role = stateful.getLogicalId(stateful.tokenSecretRotation.role.node.defaultChild as never);
    const statements = Object.values(synth.stateful.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.Roles.some((r: { Ref: string }) => r.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[]);
    for (const st of statements) {
      const actions = [st.Action].flat();
      if (!actions.some((a) => a.startsWith('secretsmanager:'))) continue;
      const secretActions = actions.filter((a) => a.startsWith('secretsmanager:'));
      if (st.Resource === '*') expect(secretActions).toEqual(['secretsmanager:GetRandomPassword']);
      else expect(st.Resource).toEqual({ Ref: id(stateful.tokenSecret) });
    }
  });

  const secretsOf = (names: Array<keyof Synthesized['stacks']['stateful']>) => {
    const all = synth.stateful.findResources('AWS::SecretsManager::Secret');
    const ids = names.map((n) => synth.stacks.stateful.getLogicalId((synth.stacks.stateful[n] as any).node.defaultChild));
    return { all, mine: ids.map((id) => [id, all[id]] as const) };
  };

  it('has CloudFormation generate the token and platform secrets: no value in the template', () => {
    const { all, mine } = secretsOf(['tokenSecret', 'platformApiKey']);
    expect(Object.keys(all)).toHaveLength(5);
    for (const [id, s] of mine) {
      expect([id, s?.Properties.GenerateSecretString]).toEqual([id, expect.anything()]);
      expect(s?.Properties.SecretString).toBeUndefined();
    }
  });

  it("creates Stripe's three secrets empty, for the operator to fill: no generated placeholder, no value", () => {
    const { mine } = secretsOf(['stripeSecretKey', 'stripeWebhookSecret', 'stripeConnectWebhookSecret']);
    for (const [id, s] of mine) {
      expect([id, s?.Properties.GenerateSecretString, s?.Properties.SecretString]).toEqual([id, undefined, undefined]);
      expect(s?.Properties.Description).toContain('put-secret-value');
    }
  });

  it('sends every alarm (DLQ depths, API 5xx) to one encrypted operators topic, into ALARM and back to OK', () => {
    const topicId = synth.stacks.stateful.getLogicalId(synth.stacks.stateful.alarmTopic.node.defaultChild as any);
    const alarms = [
      ...Object.values(synth.stateful.findResources('AWS::CloudWatch::Alarm')),
      ...Object.values(synth.stateless.findResources('AWS::CloudWatch::Alarm')),
    ];
    expect(alarms.length).toBe(Object.keys(queueDefinitions).length + 2); // each DLQ, the stream failures queue, the API
    const topicRef = (a: any) => JSON.stringify(a.Properties.AlarmActions) + JSON.stringify(a.Properties.OKActions);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions, a.Properties.AlarmDescription).toHaveLength(1);
      expect(a.Properties.OKActions, a.Properties.AlarmDescription).toHaveLength(1);
      expect(topicRef(a), a.Properties.AlarmDescription).toMatch(new RegExp(topicId.slice(0, 10)));
    }
    const api5xx = Object.values(synth.stateless.findResources('AWS::CloudWatch::Alarm')).find(
      (a) => a.Properties.MetricName === '5xx',
    );
    expect(api5xx?.Properties).toMatchObject({ Namespace: 'AWS/ApiGateway', Statistic: 'Sum', Period: 300, Threshold: 5 });

    const topic = synth.stateful.findResources('AWS::SNS::Topic')[topicId];
    expect(topic?.Properties.KmsMasterKeyId).toBeDefined();
    const key = Object.values(synth.stateful.findResources('AWS::KMS::Key')).find((k) =>
      JSON.stringify(k.Properties.KeyPolicy).includes('cloudwatch.amazonaws.com'),
    );
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    expect(JSON.stringify(topic?.Properties.KmsMasterKeyId)).toContain(
      Object.entries(synth.stateful.findResources('AWS::KMS::Key')).find(([, k]) => k === key)?.[0],
    );
    synth.stateful.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    synth.stateful.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the on-call email given with -c alarmEmail', () => {
    const withEmail = synthApp({ bundle: false, cfnValidation: false, context: { alarmEmail: 'oncall@example.org' } });
    withEmail.stateful.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.org' });
  });
});
