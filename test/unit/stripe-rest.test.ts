/**
 * The platform talks to Stripe without the stripe SDK (packages/domain/reselling/stripe-api.ts,
 * stripe-signature.ts); the SDK stays as the oracle here. Signatures: whatever the SDK signs
 * verifies, whatever the SDK refuses is refused. Requests: the form encoding parses back, by
 * the sandbox's Stripe-style parser and by `qs` (the parser Stripe's own Node library was
 * built on), to exactly the parameters sent, and the pinned API version
 * is the one the typed SDK is written for.
 */
import fc from 'fast-check';
import qs from 'qs';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { formEncode, STRIPE_API_VERSION } from '#domain/reselling/stripe-api';
import { SignatureError, verifyStripeSignature } from '#domain/reselling/stripe-signature';
import { parseStripeForm } from '#local/stripe-sandbox/form';

const secret = 'whsec_test_0123456789abcdef';
const TOLERANCE = 300;
const now = 1_790_000_000;
const sign = (payload: string, timestamp = now, key = secret) =>
  Stripe.webhooks.generateTestHeaderString({ payload, secret: key, timestamp });
const verify = (payload: string | Buffer, header: string, at = now) =>
  verifyStripeSignature(payload, header, secret, TOLERANCE, at * 1000);

/** What the SDK itself concludes, as true (verified) or its error. */
function sdkVerdict(payload: string, header: string, at = now): true | string {
  try {
    Stripe.webhooks.constructEvent(payload, header, secret, TOLERANCE, undefined, at * 1000);
    return true;
  } catch (err) {
    return (err as Error).message;
  }
}

describe('Stripe-Signature', () => {
  const event = JSON.stringify({ id: 'evt_1', type: 'checkout.session.completed', note: 'é ✓' });

  it('verifies what the SDK signs, over the exact bytes (string or Buffer), and returns the event', () => {
    expect(verify(event, sign(event))).toEqual(JSON.parse(event));
    expect(verify(Buffer.from(event), sign(event))).toEqual(JSON.parse(event));
  });

  it('refuses a changed body, another secret, a garbled header, a stale or future timestamp', () => {
    const cases: [string, string, string | Buffer, number?][] = [
      ['No signatures found', sign(event), `${event} `],
      ['No signatures found', sign(event, now, 'whsec_other'), event],
      ['Unable to extract', 'nonsense', event],
      ['Unable to extract', `t=${now}`, event],
      ['Unable to extract', sign(event).replace(/t=\d+/, 't=soon'), event],
      ['tolerance', sign(event, now - TOLERANCE - 1), event],
      ['in the future', sign(event, now + TOLERANCE + 1), event],
    ];
    for (const [message, header, body] of cases) {
      expect(() => verify(body, header), message).toThrow(SignatureError);
      expect(() => verify(body, header)).toThrow(message);
    }
    expect(verify(event, sign(event, now - TOLERANCE))).toBeTruthy();
  });

  it('accepts any one matching v1 among several (Stripe rolling a secret)', () => {
    const good = sign(event).split(',v1=')[1];
    expect(verify(event, `t=${now},v1=${'0'.repeat(64)},v1=${good}`)).toBeTruthy();
  });

  it('a signed body that is not JSON is a SyntaxError (answered "the body is not JSON")', () => {
    expect(() => verify('not json', sign('not json'))).toThrow(SyntaxError);
  });

  it('agrees with the SDK on random bodies, timestamps and tampering', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.integer({ min: -2 * TOLERANCE, max: 2 * TOLERANCE }),
        fc.boolean(),
        (text, skew, tamper) => {
          const payload = JSON.stringify({ text });
          const header = sign(payload, now + skew);
          const body = tamper ? JSON.stringify({ text: `${text}!` }) : payload;
          let ours: true | string = true;
          try {
            verify(body, header);
          } catch (err) {
            ours = (err as Error).message;
          }
          const sdk = sdkVerdict(body, header);
          // The SDK accepts a future timestamp of any age; we bound it (see stripe-signature.ts).
          if (skew > TOLERANCE && !tamper) expect(ours).toBe('timestamp is in the future');
          else expect(ours === true).toBe(sdk === true);
        },
      ),
    );
  });
});

describe('requests to Stripe', () => {
  it('pins the API version the typed SDK is written for', () => {
    expect(STRIPE_API_VERSION).toBe(Stripe.API_VERSION);
  });

  it('form-encodes nested objects and arrays so Stripe parses back exactly what was sent', () => {
    const leaf = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), fc.integer(), fc.boolean());
    const key = fc.stringMatching(/^[a-z_]{1,12}$/);
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.array(tie('v'), { minLength: 1, maxLength: 3 }),
        fc.dictionary(key, tie('v'), { minKeys: 1, maxKeys: 3 }),
      ),
    })).v;
    const asStrings = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(asStrings)
        : v !== null && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, asStrings(x)]))
          : String(v);
    fc.assert(
      fc.property(fc.dictionary(key, value, { minKeys: 1, maxKeys: 4 }), (params) => {
        const encoded = formEncode(params);
        expect({ ...parseStripeForm(encoded) }).toEqual(asStrings(params));
        // qs drops `__proto__` keys whatever its options (its guard against prototype pollution),
        // so it cannot referee those; the sandbox's parser above keeps them as plain keys.
        if (/(^|&|\[)__proto__(\]|=|\[)/.test(encoded)) return;
        // Null-prototype objects, any depth: a generated key may be `constructor` or nest deep.
        expect(qs.parse(encoded, { depth: 100, arrayLimit: 100, plainObjects: true, allowPrototypes: true })).toEqual(
          asStrings(params),
        );
      }),
    );
  });

  it('leaves undefined out, sends null as empty (Stripe: unset) and keeps brackets readable', () => {
    expect(formEncode({ a: undefined, b: null, c: { d: ['x y', 'é&='] } })).toBe('b=&c[d][0]=x%20y&c[d][1]=%C3%A9%26%3D');
  });
});
