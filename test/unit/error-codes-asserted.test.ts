/**
 * Every error code the API can answer (packages/core/errors.ts) is asserted by at least one
 * test: a static scan of the test files for the code in an assertion's place — a `code: 'x'`
 * in an expected object, `toBe('x')`/`toEqual('x')`/`toContain('x')`, a `[status, 'x']` pair or
 * a `status, 'x'` table row, or a `=== 'x'` comparison. A mention elsewhere (a label, a uniq()
 * prefix, a comment) does not count. A code added without a test fails this file, naming it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../packages/core/errors';

const ROOT = join(import.meta.dirname, '..');
const SELF = relative(ROOT, import.meta.filename);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'support' ? [] : testFiles(path);
    return path.endsWith('.test.ts') && relative(ROOT, path) !== SELF ? [path] : [];
  });
}

const sources = testFiles(ROOT).map((path) => ({ path: relative(ROOT, path), text: readFileSync(path, 'utf8') }));

/** The places an assertion names a code: `x` stands for the quoted code. */
function assertionPatterns(code: string): RegExp[] {
  const q = `['"\`]${code}['"\`]`;
  return [
    new RegExp(`\\bcode\\??\\s*:\\s*${q}`), // { status: 409, code: 'x' }
    new RegExp(`\\.(toBe|toEqual|toStrictEqual|toContain)\\(\\s*${q}`), // .toBe('x')
    new RegExp(`\\b[1-5]\\d\\d\\s*,\\s*${q}`), // [409, 'x'] and table rows (…, 422, 'x', …)
    new RegExp(`===\\s*${q}`), // r.code === 'x'
    new RegExp(`expect\\(\\s*\\[[^\\]]*${q}`), // expect(['x', 'y']).toContain(code)
  ];
}

function assertedIn(text: string, code: string): boolean {
  return assertionPatterns(code).some((p) => p.test(text));
}

describe('error codes', () => {
  it('the scan tells an assertion from a mention', () => {
    expect(assertedIn(`expect(res.body.code).toBe('conflict');`, 'conflict')).toBe(true);
    expect(assertedIn(`expect([res.status, res.body.code]).toEqual([409, 'conflict']);`, 'conflict')).toBe(true);
    expect(assertedIn(`toMatchObject({ status: 409, code: 'conflict' })`, 'conflict')).toBe(true);
    expect(assertedIn(`const key = uniq('conflict');`, 'conflict')).toBe(false);
    expect(assertedIn(`// answers 409 conflict`, 'conflict')).toBe(false);
    expect(assertedIn(`expect(code).toBe('conflicts')`, 'conflict')).toBe(false);
  });

  it('every code in packages/core/errors.ts is asserted by some test', () => {
    expect(sources.length).toBeGreaterThan(20);
    const unasserted = Object.keys(errorCodes).filter((code) => !sources.some((s) => assertedIn(s.text, code)));
    expect(unasserted, 'codes no test asserts: add a test that provokes each').toEqual([]);
  });
});
