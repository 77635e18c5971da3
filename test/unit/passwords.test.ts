/**
 * Password hashing: scrypt at N=2^17, r=8, p=1 with the parameters stored alongside the salt
 * and hash, a verify that is exact (wrong password, tampered or foreign hashes → false, never a
 * throw), and generated passwords: 16 characters from the unambiguous alphabet, from a CSPRNG.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { generatePassword, hashPassword, verifyPassword } from '#domain/auth/passwords';

const ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';

// The test run hashes at 2^14 (vitest.config.ts); these cases set the cost themselves.
const testCost = process.env.PASSWORD_SCRYPT_LOG2N;
afterEach(() => {
  if (testCost === undefined) delete process.env.PASSWORD_SCRYPT_LOG2N;
  else process.env.PASSWORD_SCRYPT_LOG2N = testCost;
});

describe('passwords', () => {
  it('hashes with scrypt N=2^17 r=8 p=1, salted, and verifies the round trip', async () => {
    delete process.env.PASSWORD_SCRYPT_LOG2N; // as deployed
    const stored = await hashPassword('correct horse battery');
    expect(stored).toMatch(/^scrypt\$131072\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(stored).not.toContain('correct horse battery');
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await hashPassword('correct horse battery')).not.toBe(stored); // a fresh salt each time
  });

  it('takes a lower cost only from the test setting, never below 2^14, and verifies any stored cost', async () => {
    process.env.PASSWORD_SCRYPT_LOG2N = '14';
    const cheap = await hashPassword('correct horse battery');
    expect(cheap).toMatch(/^scrypt\$16384\$8\$1\$/);
    delete process.env.PASSWORD_SCRYPT_LOG2N;
    expect(await verifyPassword('correct horse battery', cheap)).toBe(true);
    for (const bad of ['13', '21', '14.5', 'low', '']) {
      process.env.PASSWORD_SCRYPT_LOG2N = bad;
      await expect(hashPassword('x'), bad).rejects.toThrow(/PASSWORD_SCRYPT_LOG2N/);
    }
  });

  it('refuses a wrong password, and garbage or tampered stored hashes without throwing', async () => {
    const stored = await hashPassword('correct horse battery');
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    const parts = stored.split('$');
    const flipped = parts[5]!.startsWith('A') ? `B${parts[5]!.slice(1)}` : `A${parts[5]!.slice(1)}`;
    expect(await verifyPassword('correct horse battery', [...parts.slice(0, 5), flipped].join('$'))).toBe(false);
    for (const garbage of ['', 'plain', 'bcrypt$2b$10$abc', 'scrypt$1$2', `scrypt$131072$8$1$${parts[4]}$`]) {
      expect(await verifyPassword('correct horse battery', garbage)).toBe(false);
    }
  });

  it('normalizes Unicode (NFKC), so the same password typed differently still verifies', async () => {
    const stored = await hashPassword('Åsa-p\u00e4ssword');
    expect(await verifyPassword('A\u030asa-pa\u0308ssword', stored)).toBe(true);
  });

  it('generates 16-character passwords from the unambiguous alphabet', () => {
    const seen = new Set<string>();
    const chars = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const pw = generatePassword();
      expect(pw).toHaveLength(16);
      for (const c of pw) {
        expect(ALPHABET).toContain(c);
        chars.add(c);
      }
      seen.add(pw);
    }
    expect(seen.size).toBe(500);
    // 8000 draws over 56 symbols: every symbol shows up, none outside (no 0/O/1/l/I).
    expect(chars.size).toBe(ALPHABET.length);
    expect(generatePassword(24)).toHaveLength(24);
  });
});
