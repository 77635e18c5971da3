import type { CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { queueDefinitions, rechargeStreamFilters } from '#queues/definitions';
import type { AppFunction } from '../../infra/constructs/app-function';
import { type Synthesized, synthApp } from './synth-app';

type Resource = { Type: string; Properties: Record<string, any> };

/** Auto-recharge in CDK (issue 10): the detector's own stream mapping, the sender and its queue, DLQ alarms, no loopback deployed. */
describe('auto-recharge infrastructure', () => {
  let synth: Synthesized;
  const logicalId = (f: AppFunction) => synth.stacks.stateless.getLogicalId(f.fn.node.defaultChild as CfnElement);
  const resourcesOf = (t: 'stateful' | 'stateless') => synth[t].toJSON().Resources as Record<string, Resource>;

  beforeAll(() => {
    synth = synthApp({ bundle: false, cfnValidation: false });
  });

  it('never gives a deployed function a local-only setting (loopback webhooks over http, cheap password hashing)', () => {
    const functions = Object.values(resourcesOf('stateless')).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(10);
    for (const f of functions) {
      const names = Object.keys(f.Properties.Environment?.Variables ?? {});
      expect(names).not.toContain('WEBHOOKS_ALLOW_LOOPBACK_HTTP');
      expect(names).not.toContain('PASSWORD_SCRYPT_LOG2N');
    }
  });

  it('gives the detector the daily cap of recharge requests from -c autoRechargeDailyCap (10 by default); a bad one fails the synth', () => {
    const capOf = (t: Synthesized) =>
      (t.stateless.toJSON().Resources as Record<string, Resource>)[logicalId(synth.stacks.stateless.rechargeDetector)]?.Properties
        .Environment.Variables.AUTO_RECHARGE_DAILY_CAP;
    expect(capOf(synth)).toBe('10');
    expect(capOf(synthApp({ bundle: false, cfnValidation: false, context: { autoRechargeDailyCap: '25' } }))).toBe('25');
    for (const bad of ['0', '2.5', 'ten', '100000'])
      expect(() => synthApp({ bundle: false, cfnValidation: false, context: { autoRechargeDailyCap: bad } })).toThrow(
        /autoRechargeDailyCap/,
      );
  });

  it('creates the webhooks queue from its definition, with redrive to its DLQ', () => {
    const def = queueDefinitions.webhooks;
    synth.stateful.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: def.name,
      VisibilityTimeout: def.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: def.maxReceiveCount },
    });
    synth.stateful.hasResourceProperties('AWS::SQS::Queue', { QueueName: def.dlqName });
  });

  it('alarms on the depth of every dead-letter queue (both DLQs and the stream failures queue)', () => {
    const resources = resourcesOf('stateful');
    const dlqIds = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::SQS::Queue' && !r.Properties.RedrivePolicy)
      .map(([id]) => id);
    expect(dlqIds.length).toBe(Object.keys(queueDefinitions).length + 1);
    const alarmed = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map((r) => r.Properties.Dimensions[0].Value['Fn::GetAtt'][0]);
    expect(alarmed.sort()).toEqual(dlqIds.sort());
  });

  it('reads the stream with its own filtered mapping (wallet changes, delivery inserts), bisecting and keeping what fails', () => {
    synth.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(synth.stacks.stateless.rechargeDetector) },
      FilterCriteria: { Filters: rechargeStreamFilters.map((f) => ({ Pattern: JSON.stringify(f) })) },
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('consumes the webhooks queue with partial batch responses, within the visibility timeout', () => {
    const def = queueDefinitions.webhooks;
    synth.stateless.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(synth.stacks.stateless.webhookSender) },
      BatchSize: def.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    const sender = resourcesOf('stateless')[logicalId(synth.stacks.stateless.webhookSender)]!;
    expect(sender.Properties.Timeout).toBe(def.consumerTimeoutSeconds);
    expect(def.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(6 * def.consumerTimeoutSeconds);
  });

  it('lets only the sender and the auto-recharge routes open webhook secrets (kms:Decrypt)', () => {
    const resources = resourcesOf('stateless');
    const decrypting = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
      .filter(([, r]) =>
        r.Properties.PolicyDocument.Statement.some((s: { Action: string | string[] }) =>
          [s.Action].flat().includes('kms:Decrypt'),
        ),
      )
      .flatMap(([, r]) => r.Properties.Roles.map((role: { Ref: string }) => role.Ref));
    const roleOf = (f: AppFunction) => synth.stacks.stateless.getLogicalId(f.role.node.defaultChild as CfnElement);
    const s = synth.stacks.stateless;
    expect(decrypting.sort()).toEqual(
      [roleOf(s.notifier), roleOf(s.webhookSender), roleOf(s.httpFunctions['auto-recharge'])].sort(),
    );
  });
});
