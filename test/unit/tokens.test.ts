/**
 * Session/assist tokens: what issueToken signs, verifyToken reads back; anything else (expired,
 * another audience or issuer, another algorithm incl. `alg: none`, another key, a missing or
 * ill-typed claim, a tampered payload, an unknown or missing key id) is refused as 401
 * `unauthenticated`, never another error. Rotation: tokens signed with the previous secret
 * still verify; new ones are signed with the current secret.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '#core/errors';
import { forgetSigningKeys, kidOf } from '#domain/auth/signing-keys';
import { issueToken, verifyToken } from '#domain/auth/tokens';
import { forgeToken, otherSecret, unsignedToken } from '../support/tokens';

const SECRET = 'unit-test-token-secret-0123456789abcdef';
const claims = { userId: 'usr_1', accountId: 'agc_1', accountType: 'agency', agencyId: 'agc_1', sessionVersion: 3 } as const;

beforeAll(() => {
  // Read lazily on first use; this worker is not pointed at the local stack.
  process.env.TOKEN_SECRET = SECRET;
});

async function expectRefused(token: string) {
  const err = await verifyToken(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('unauthenticated');
}

describe('tokens', () => {
  it('verifies what it issued: session and assist tokens', async () => {
    const session = await issueToken(claims, 600);
    expect(await verifyToken(session.token)).toEqual({
      ...claims,
      actorUserId: undefined,
      jti: session.jti,
      expiresAt: session.expiresAt,
    });
    const assist = await issueToken(
      {
        userId: 'sub_1',
        accountId: 'sub_1',
        accountType: 'sub_account',
        agencyId: 'agc_1',
        actorUserId: 'usr_1',
        sessionVersion: 0,
        parentSessionId: session.jti,
      },
      600,
    );
    expect(await verifyToken(assist.token)).toMatchObject({
      accountType: 'sub_account',
      actorUserId: 'usr_1',
      accountId: 'sub_1',
      parentSessionId: session.jti,
    });
    expect(session.jti).toMatch(/^ses_/);
  });

  it('accepts a correctly forged token (the forgeries below differ in one way each)', async () => {
    await expect(verifyToken(await forgeToken(claims, { secret: SECRET }))).resolves.toMatchObject(claims);
  });

  it('refuses expired tokens', async () => {
    await expectRefused(await forgeToken(claims, { secret: SECRET, expiresIn: -1 }));
    await expectRefused((await issueToken(claims, -10)).token);
  });

  it('refuses another audience or issuer', async () => {
    await expectRefused(await forgeToken(claims, { secret: SECRET, audience: 'other-api' }));
    await expectRefused(await forgeToken(claims, { secret: SECRET, issuer: 'someone-else' }));
  });

  it('refuses other algorithms, alg:none and other keys', async () => {
    await expectRefused(await forgeToken(claims, { secret: SECRET, alg: 'HS512' }));
    await expectRefused(await forgeToken(claims, { secret: SECRET, alg: 'HS384' }));
    await expectRefused(unsignedToken(claims));
    await expectRefused(await forgeToken(claims, { secret: otherSecret() }));
  });

  it('refuses a missing or ill-typed claim', async () => {
    for (const omit of ['sub', 'acc', 'typ', 'agc', 'jti', 'exp', 'sv'] as const) {
      await expectRefused(await forgeToken(claims, { secret: SECRET, omit }));
    }
    await expectRefused(await forgeToken({ ...claims, accountType: 'admin' as never }, { secret: SECRET }));
    await expectRefused(await forgeToken({ ...claims, sessionVersion: -1 }, { secret: SECRET }));
    await expectRefused(await forgeToken({ ...claims, sessionVersion: 1.5 }, { secret: SECRET }));
  });

  it('refuses an assist token that does not name the session that started it (its logout could not end it)', async () => {
    const assist = { ...claims, accountType: 'sub_account', actorUserId: 'usr_1' } as const;
    await expect(
      verifyToken(await forgeToken({ ...assist, parentSessionId: 'ses_1' }, { secret: SECRET })),
    ).resolves.toMatchObject({ actorUserId: 'usr_1', parentSessionId: 'ses_1' });
    await expectRefused(await forgeToken(assist, { secret: SECRET }));
  });

  it('refuses a token without a key id, or naming a key it does not have', async () => {
    await expectRefused(await forgeToken(claims, { secret: SECRET, kid: null }));
    await expectRefused(await forgeToken(claims, { secret: SECRET, kid: 'no-such-key' }));
  });

  it('refuses a tampered payload and garbage', async () => {
    const [header, payload, signature] = (await forgeToken(claims, { secret: SECRET })).split('.');
    const changed = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), acc: 'agc_other' }),
    ).toString('base64url');
    await expectRefused(`${header}.${changed}.${signature}`);
    for (const garbage of ['', 'x', 'a.b.c', `${header}.${payload}`]) await expectRefused(garbage);
  });

  describe('rotation', () => {
    afterEach(() => {
      process.env.TOKEN_SECRET = SECRET;
      delete process.env.TOKEN_SECRET_PREVIOUS;
      forgetSigningKeys();
    });

    it('signs with the current secret and still accepts the previous one; a secret rotated out is refused', async () => {
      const before = await issueToken(claims, 600);
      expect(JSON.parse(Buffer.from(before.token.split('.')[0]!, 'base64url').toString()).kid).toBe(kidOf(SECRET));

      const next = otherSecret();
      process.env.TOKEN_SECRET = next;
      process.env.TOKEN_SECRET_PREVIOUS = SECRET;
      forgetSigningKeys();
      await expect(verifyToken(before.token)).resolves.toMatchObject(claims);
      const after = await issueToken(claims, 600);
      expect(JSON.parse(Buffer.from(after.token.split('.')[0]!, 'base64url').toString()).kid).toBe(kidOf(next));
      await expect(verifyToken(after.token)).resolves.toMatchObject(claims);

      // One more rotation: the first secret is gone, its tokens with it.
      process.env.TOKEN_SECRET = otherSecret();
      process.env.TOKEN_SECRET_PREVIOUS = next;
      forgetSigningKeys();
      await expectRefused(before.token);
      await expect(verifyToken(after.token)).resolves.toMatchObject(claims);
    });

    it('a token naming the previous key but signed with another secret is refused', async () => {
      process.env.TOKEN_SECRET_PREVIOUS = otherSecret();
      forgetSigningKeys();
      await expectRefused(await forgeToken(claims, { secret: otherSecret(), kid: kidOf(process.env.TOKEN_SECRET_PREVIOUS) }));
    });
  });
});
