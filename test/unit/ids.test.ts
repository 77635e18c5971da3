/**
 * Ids: `<prefix>_` + 26 Crockford base32 chars, the first 10 the creation millisecond, so ids
 * sort in creation order as strings (list queries rely on it); the random tail keeps ids made
 * in the same millisecond apart.
 */
import { describe, expect, it } from 'vitest';
import { hasPrefix, type IdKind, idPrefixes, newId } from '#core/ids';

describe('ids', () => {
  it('carries the type prefix and a fixed-length Crockford base32 body', () => {
    for (const [kind, prefix] of Object.entries(idPrefixes)) {
      const id = newId(kind as IdKind);
      expect(id).toMatch(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`));
      expect(hasPrefix(id, kind as IdKind)).toBe(true);
    }
    expect(hasPrefix(newId('subAccount'), 'agency')).toBe(false);
    expect(new Set(Object.values(idPrefixes)).size).toBe(Object.keys(idPrefixes).length);
  });

  it('sorts by creation time, across every digit boundary', () => {
    const times = [0, 1, 31, 32, 33, 1023, 1024, 32 ** 3, 1_600_000_000_000, 1_700_000_000_000, Date.now(), 32 ** 10 - 2]; // 10 chars of ms last until the year 36812
    const ids = times.map((t) => newId('campaign', t));
    expect([...ids].sort()).toEqual(ids);
    const later = times.map((t) => newId('campaign', t + 1));
    times.forEach((_, i) => expect(ids[i]! < later[i]!).toBe(true));
  });

  it('keeps ids of the same millisecond distinct', () => {
    const now = Date.now();
    const ids = Array.from({ length: 2000 }, () => newId('transaction', now));
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.map((id) => id.slice(0, 14))).size).toBe(1);
  });
});
