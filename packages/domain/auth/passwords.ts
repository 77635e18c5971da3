import { randomBytes, randomInt, type ScryptOptions, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';

/**
 * Password hashing with scrypt at OWASP's recommended cost (N=2^17, r=8, p=1). The stored
 * form carries its parameters (`scrypt$N$r$p$salt$hash`) so the cost can rise later without
 * locking anyone out.
 */
const KEY_LENGTH = 32;

/**
 * N as a power of two: 17 unless `PASSWORD_SCRYPT_LOG2N` says otherwise. Only the test stack
 * sets it (14, an eighth of the work: the suite hashes hundreds of passwords on 2 cores, and
 * at 2^17 each costs about half a second of CPU). Deployed functions never get it (the infra
 * tests assert so) and `npm start` does not set it; below 14 is refused.
 */
function hashParams(): { N: number; r: number; p: number } {
  const configured = process.env.PASSWORD_SCRYPT_LOG2N;
  const log2n = configured === undefined ? 17 : Number(configured);
  if (!Number.isInteger(log2n) || log2n < 14 || log2n > 20) throw new Error('PASSWORD_SCRYPT_LOG2N: an integer from 14 to 20');
  return { N: 2 ** log2n, r: 8, p: 1 };
}

function scrypt(password: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFKC'), salt, KEY_LENGTH, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const params = hashParams();
  const hash = await scrypt(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scrypt(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A readable generated password: 16 chars from a CSPRNG over an unambiguous alphabet (~93 bits). */
const PASSWORD_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789';
export function generatePassword(length = 16): string {
  let out = '';
  for (let i = 0; i < length; i++) out += PASSWORD_ALPHABET[randomInt(PASSWORD_ALPHABET.length)];
  return out;
}
