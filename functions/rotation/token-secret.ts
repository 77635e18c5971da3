import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type RotationEvent, rotateSecret } from '#crypto/rotate-secret';

const sm = new SecretsManagerClient({});

/** Rotates the token signing secret (Secrets Manager calls it once per step). */
export async function handler(event: RotationEvent): Promise<void> {
  await rotateSecret(sm, event);
}
