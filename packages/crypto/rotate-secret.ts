import {
  DescribeSecretCommand,
  GetRandomPasswordCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

/**
 * Secrets Manager's rotation protocol for a secret only this service uses (the token signing
 * key): each step is called with the version being made (ClientRequestToken) and must be safe to
 * repeat. createSecret stores a new random value as AWSPENDING; setSecret has nothing to tell
 * anyone; testSecret checks the value; finishSecret makes it AWSCURRENT, and Secrets Manager
 * moves AWSPREVIOUS to the value it replaces, which verification keeps accepting.
 */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

export const SECRET_LENGTH = 64;

type Client = Pick<SecretsManagerClient, 'send'>;

export async function rotateSecret(sm: Client, event: RotationEvent): Promise<void> {
  const { SecretId, ClientRequestToken: version, Step } = event;
  const meta = await sm.send(new DescribeSecretCommand({ SecretId }));
  if (!meta.RotationEnabled) throw new Error('Rotation is not enabled on the secret');
  const stages = meta.VersionIdsToStages?.[version];
  if (!stages) throw new Error('The version being rotated is not a version of the secret');
  if (stages.includes('AWSCURRENT')) return; // finished already: a repeated call
  if (!stages.includes('AWSPENDING')) throw new Error('The version being rotated is not AWSPENDING');

  switch (Step) {
    case 'createSecret': {
      if (await pendingValue(sm, SecretId, version)) return;
      const random = await sm.send(
        new GetRandomPasswordCommand({ PasswordLength: SECRET_LENGTH, ExcludePunctuation: true, IncludeSpace: false }),
      );
      await sm.send(
        new PutSecretValueCommand({
          SecretId,
          ClientRequestToken: version,
          SecretString: random.RandomPassword,
          VersionStages: ['AWSPENDING'],
        }),
      );
      return;
    }
    case 'setSecret':
      return;
    case 'testSecret': {
      const value = await pendingValue(sm, SecretId, version);
      if (!value || value.length < SECRET_LENGTH) throw new Error('The pending secret is missing or too short');
      return;
    }
    case 'finishSecret': {
      const current = Object.entries(meta.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: version,
          RemoveFromVersionId: current,
        }),
      );
      return;
    }
  }
}

async function pendingValue(sm: Client, SecretId: string, VersionId: string): Promise<string | undefined> {
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId, VersionId, VersionStage: 'AWSPENDING' }));
    return out.SecretString;
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}
