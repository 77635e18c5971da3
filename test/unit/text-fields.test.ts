/**
 * A trimmed line is held to its published schema as sent: the pattern and the maximum length
 * apply to the text the client sent, so nothing the document refuses is accepted because
 * trimming removed it (U+2028 and U+2029 are white space to `trim`); then it is trimmed and
 * held to its minimum.
 */
import { describe, expect, it } from 'vitest';
import * as z from '#core/zod';
import { singleLinePattern, trimmedLine } from '#domain/text-fields';

const name = trimmedLine(10);
const optional = trimmedLine(10, 0);

describe('trimmedLine', () => {
  it.each([
    ['a trailing line separator', 'Bloom\u2028'],
    ['a leading paragraph separator', '\u2029Bloom'],
    ['only a line separator, where empty is allowed', '\u2028'],
    ['a trailing newline', 'Bloom\n'],
  ])('refuses %s, as the document does', (_, text) => {
    expect(singleLinePattern.test(text)).toBe(false);
    expect(z.safeParse(name, text).success).toBe(false);
    expect(z.safeParse(optional, text).success).toBe(false);
  });

  it('refuses more than the maximum as sent, even when trimming would bring it within', () => {
    expect(z.safeParse(name, `${'x'.repeat(10)} `).success).toBe(false);
    expect(z.parse(name, 'x'.repeat(10))).toBe('x'.repeat(10));
  });

  it('trims spaces, then holds the minimum', () => {
    expect(z.parse(name, '  Bloom  ')).toBe('Bloom');
    expect(z.safeParse(name, '   ').success).toBe(false);
    expect(z.parse(optional, '   ')).toBe('');
  });
});
