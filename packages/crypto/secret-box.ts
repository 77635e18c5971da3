import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { awsClientDefaults } from '#core/aws-clients';
import { optionalEnv, requireEnv } from '#core/env';
import { traced } from '#core/tracing';

/**
 * Encrypts short secrets that must rest in the table for a moment (a generated password on
 * its way to the client's inbox). Deployed: KMS, with the key named by KMS_KEY_ID and the
 * item id as encryption context. Locally: AES-256-GCM with LOCAL_ENCRYPTION_KEY (base64, 32
 * bytes), kept by the local runtime in a key file under .data/.
 */
let kms: KMSClient | undefined;

export async function seal(plaintext: string, context: string): Promise<string> {
  const keyId = optionalEnv('KMS_KEY_ID');
  if (keyId) {
    kms ??= traced(new KMSClient(awsClientDefaults));
    const out = await kms.send(
      new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(plaintext), EncryptionContext: { context } }),
    );
    return `kms:${Buffer.from(out.CiphertextBlob ?? new Uint8Array()).toString('base64')}`;
  }
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', localKey(), iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `gcm:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
}

export async function open(sealed: string, context: string): Promise<string> {
  const [scheme, payload = ''] = sealed.split(':', 2);
  const raw = Buffer.from(payload, 'base64');
  if (scheme === 'kms') {
    kms ??= traced(new KMSClient(awsClientDefaults));
    const out = await kms.send(new DecryptCommand({ CiphertextBlob: raw, EncryptionContext: { context } }));
    return Buffer.from(out.Plaintext ?? new Uint8Array()).toString('utf8');
  }
  if (scheme !== 'gcm') throw new Error('Unknown sealed-secret scheme');
  const decipher = createDecipheriv('aes-256-gcm', localKey(), raw.subarray(0, 12));
  decipher.setAAD(Buffer.from(context));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

function localKey(): Buffer {
  const key = Buffer.from(requireEnv('LOCAL_ENCRYPTION_KEY'), 'base64');
  if (key.length !== 32) throw new Error('LOCAL_ENCRYPTION_KEY must be 32 bytes, base64');
  return key;
}
