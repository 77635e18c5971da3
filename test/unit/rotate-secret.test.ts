/**
 * The token secret's rotation, step by step as Secrets Manager drives it, against an in-memory
 * stand-in of Secrets Manager's versions and staging labels (no local Secrets Manager exists):
 * a new random value becomes AWSCURRENT, the old one AWSPREVIOUS (which verification still
 * accepts), every step can be repeated, and a version not AWSPENDING is refused.
 */
import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { type RotationEvent, rotateSecret, SECRET_LENGTH } from '#crypto/rotate-secret';

class FakeSecretsManager {
  values = new Map<string, string>();
  stages = new Map<string, string[]>();
  calls: string[] = [];
  constructor(current: string) {
    this.values.set('v1', current);
    this.stages.set('v1', ['AWSCURRENT']);
  }
  /** What Secrets Manager does on RotateSecret before calling the function: a pending version. */
  startRotation(version: string) {
    this.stages.set(version, ['AWSPENDING']);
  }
  valueAt(stage: string) {
    const version = [...this.stages].find(([, s]) => s.includes(stage))?.[0];
    return version && this.values.get(version);
  }
  private move(stage: string, to: string, from?: string) {
    for (const [v, s] of this.stages)
      if (v === from || s.includes(stage))
        this.stages.set(
          v,
          s.filter((x) => x !== stage),
        );
    this.stages.set(to, [...(this.stages.get(to) ?? []), stage]);
  }
  async send(command: unknown): Promise<unknown> {
    this.calls.push((command as object).constructor.name);
    const input = (command as { input: Record<string, string> }).input;
    if (command instanceof DescribeSecretCommand) {
      return { RotationEnabled: true, VersionIdsToStages: Object.fromEntries(this.stages) };
    }
    if (command instanceof GetRandomPasswordCommand) return { RandomPassword: 'r'.repeat(Number(input.PasswordLength)) };
    if (command instanceof GetSecretValueCommand) {
      const value = this.values.get(input.VersionId!);
      if (!value || !this.stages.get(input.VersionId!)?.includes(input.VersionStage!)) {
        throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      }
      return { SecretString: value };
    }
    if (command instanceof PutSecretValueCommand) {
      this.values.set(input.ClientRequestToken!, input.SecretString!);
      return {};
    }
    if (command instanceof UpdateSecretVersionStageCommand) {
      const previous = input.RemoveFromVersionId;
      this.move('AWSCURRENT', input.MoveToVersionId!, previous);
      if (previous) this.move('AWSPREVIOUS', previous);
      this.move('AWSPENDING', input.MoveToVersionId!);
      this.stages.set(
        input.MoveToVersionId!,
        (this.stages.get(input.MoveToVersionId!) ?? []).filter((s) => s !== 'AWSPENDING'),
      );
      return {};
    }
    throw new Error(`unexpected ${this.calls.at(-1)}`);
  }
}

const steps = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
const event = (Step: RotationEvent['Step'], version = 'v2'): RotationEvent => ({
  SecretId: 'arn:token-secret',
  ClientRequestToken: version,
  Step,
});

describe('token secret rotation', () => {
  it('makes a new random value current and keeps the old one as previous; repeated steps change nothing', async () => {
    const sm = new FakeSecretsManager('old-secret');
    sm.startRotation('v2');
    for (const step of steps) {
      await rotateSecret(sm, event(step));
      await rotateSecret(sm, event(step)); // Secrets Manager may call a step again
    }
    expect(sm.valueAt('AWSCURRENT')).toHaveLength(SECRET_LENGTH);
    expect(sm.valueAt('AWSCURRENT')).not.toBe('old-secret');
    expect(sm.valueAt('AWSPREVIOUS')).toBe('old-secret');
    expect(sm.calls.filter((c) => c === 'PutSecretValueCommand')).toHaveLength(1);
  });

  it('refuses a version that is not pending, and does nothing for one already current', async () => {
    const sm = new FakeSecretsManager('old-secret');
    await expect(rotateSecret(sm, event('createSecret', 'v9'))).rejects.toThrow(/not a version/);
    sm.stages.set('v3', []);
    await expect(rotateSecret(sm, event('createSecret', 'v3'))).rejects.toThrow(/not AWSPENDING/);
    await rotateSecret(sm, event('finishSecret', 'v1'));
    expect(sm.valueAt('AWSCURRENT')).toBe('old-secret');
  });

  it('fails the test step when the pending value is missing', async () => {
    const sm = new FakeSecretsManager('old-secret');
    sm.startRotation('v2');
    await expect(rotateSecret(sm, event('testSecret'))).rejects.toThrow(/missing or too short/);
    expect(sm.valueAt('AWSCURRENT')).toBe('old-secret');
  });
});
