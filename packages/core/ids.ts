import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque, type-prefixed, time-ordered ids (`sub_01jd…`): 10 chars of millisecond time in
 * Crockford base32 then 16 random chars, so ids sort by creation and list queries on them
 * come back in creation order.
 */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';

export const idPrefixes = {
  agency: 'agc',
  subAccount: 'sub',
  user: 'usr',
  apiKey: 'key',
  transaction: 'txn',
  campaign: 'cmp',
  outbox: 'evt',
  session: 'ses',
  purchase: 'pur',
  creditPackage: 'pkg',
  rechargeRequest: 'rrq',
  webhookDelivery: 'whd',
  webhookEndpoint: 'we',
  auditRecord: 'aud',
} as const;

export type IdKind = keyof typeof idPrefixes;

function encodeTime(ms: number): string {
  let out = '';
  for (let i = 0; i < 10; i++) {
    out = ALPHABET[ms % 32] + out;
    ms = Math.floor(ms / 32);
  }
  return out;
}

function randomChars(n: number): string {
  const bytes = randomBytes(n);
  let out = '';
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}

export function newId(kind: IdKind, now = Date.now()): string {
  return `${idPrefixes[kind]}_${encodeTime(now)}${randomChars(16)}`;
}

/**
 * An id of the same shape whose tail is derived from `seed` (SHA-256) instead of drawn: the
 * same seed at the same millisecond is the same id, so a writer that runs again (a stream
 * batch retried) writes the same item, and its conditional put keeps it to one.
 */
export function derivedId(prefix: string, ms: number, seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let tail = '';
  for (let i = 0; i < 16; i++) tail += ALPHABET[(digest[i] as number) & 31];
  return `${prefix}_${encodeTime(ms)}${tail}`;
}

/**
 * The smallest (`end` false) or largest (`end` true) id of a kind at a millisecond: since ids
 * sort by time, a time range is an id range (DynamoDB key conditions on time-ordered ids).
 */
export function idBoundAt(kind: IdKind, ms: number, end: boolean): string {
  return `${idPrefixes[kind]}_${encodeTime(Math.max(0, ms))}${(end ? 'z' : '').repeat(16)}`;
}

export function hasPrefix(id: string, kind: IdKind): boolean {
  return id.startsWith(`${idPrefixes[kind]}_`);
}

const ID_BODY = `[${ALPHABET}]{26}`;
/** The exact shape of an id of a kind: its prefix, then 26 characters of the id alphabet. */
export const idPattern = (kind: IdKind) => new RegExp(`^${idPrefixes[kind]}_${ID_BODY}$`);

/** Whether `id` has the shape of an id of one of `kinds` (a path parameter of another shape names nothing). */
export function isIdOf(id: string, kinds: readonly IdKind[]): boolean {
  return kinds.some((kind) => idPattern(kind).test(id));
}
