import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Stripe's webhook signature, checked as `stripe.webhooks.constructEvent` checks it (without
 * bundling the SDK for it): `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where
 * each v1 is HMAC-SHA256 of `<t>.<raw body bytes>` keyed with the endpoint's whole `whsec_…`
 * secret (several while Stripe rolls a secret). Compared in constant time, and the timestamp
 * must be within `toleranceSeconds` of now on either side: a stale one is a replay, and one from
 * the future would stretch the replay window. Returns the parsed event; throws
 * `SignatureError` with a message that names the problem (and `SyntaxError` for a body that is
 * signed but not JSON).
 */
export class SignatureError extends Error {}

export function verifyStripeSignature(
  raw: Buffer | string,
  header: string,
  secret: string,
  toleranceSeconds: number,
  nowMs: number,
): unknown {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    const [name, value] = [part.slice(0, eq).trim(), part.slice(eq + 1).trim()];
    if (name === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (name === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0)
    throw new SignatureError('Unable to extract timestamp and signatures from header');

  const now = Math.floor(nowMs / 1000);
  if (timestamp > now + toleranceSeconds) throw new SignatureError('timestamp is in the future');

  const body = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`, 'utf8').update(body).digest();
  if (!signatures.some((s) => timingSafeEqual(s, expected)))
    throw new SignatureError('No signatures found matching the expected signature for payload');

  if (now - timestamp > toleranceSeconds) throw new SignatureError('Timestamp outside the tolerance zone');
  return JSON.parse(body.toString('utf8'));
}
