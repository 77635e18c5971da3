/**
 * Every error code the API can answer (packages/core/errors.ts) is asserted by at least one
 * test. The test files are parsed with the TypeScript compiler (so comments are not code), and
 * a code counts only where an assertion expects it of an answer:
 *  - among the expected values of an `expect(…)` matcher whose subject reads a code
 *    (`expect(res.body.code).toBe('x')`, `expect([res.status, res.body.code]).toEqual([409, 'x'])`),
 *    or as the `code` of an expected object (`expect(res.body).toMatchObject({ code: 'x' })`);
 *    never after `.not`;
 *  - in the table of an `it.each`/`test.each`, or in an array literal a `for…of` walks, whose
 *    test or loop body asserts a code that way.
 * A code in a mocked body, a model, a counting helper, a label, a fixture or a comment does not
 * count. A code added without a test fails this file, naming it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '#core/errors';

const ROOT = join(import.meta.dirname, '..');
const SELF = relative(ROOT, import.meta.filename);

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'support' ? [] : testFiles(path);
    return path.endsWith('.test.ts') && relative(ROOT, path) !== SELF ? [path] : [];
  });
}

const isString = (n: ts.Node): n is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral =>
  ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n);

/** Every node under `node` (itself included) that `pick` keeps. */
function collect<T>(node: ts.Node, pick: (n: ts.Node) => T | undefined): T[] {
  const out: T[] = [];
  const visit = (n: ts.Node) => {
    const kept = pick(n);
    if (kept !== undefined) out.push(kept);
    ts.forEachChild(n, visit);
  };
  visit(node);
  return out;
}

/** `expect(…)` (or `expect.soft(…)`) at the root of a matcher chain, and whether `.not` is on the way. */
function expectOf(chain: ts.Expression): { subject: ts.CallExpression; negated: boolean } | undefined {
  let negated = false;
  for (let e = chain; ; ) {
    if (ts.isPropertyAccessExpression(e)) {
      negated ||= e.name.text === 'not';
      e = e.expression;
    } else if (ts.isCallExpression(e)) {
      const callee = e.expression.getText();
      if (callee === 'expect' || callee === 'expect.soft') return { subject: e, negated };
      e = e.expression;
    } else return undefined;
  }
}

/** The subject reads a code: `res.body.code`, `code`, `codes`, `r.errorCode`… */
const readsCode = (subject: ts.CallExpression) =>
  subject.arguments.length > 0 &&
  collect(subject.arguments[0]!, (n) => (ts.isIdentifier(n) && /code/i.test(n.text)) || undefined).length > 0;

/** String literals a matcher call expects: all of them when the subject reads a code, else only `code: '…'` values. */
function expectedCodes(call: ts.CallExpression): string[] {
  if (!ts.isPropertyAccessExpression(call.expression)) return [];
  const root = expectOf(call.expression.expression);
  if (!root || root.negated) return [];
  const all = readsCode(root.subject);
  return call.arguments.flatMap((arg) =>
    collect(arg, (n) => {
      if (!isString(n)) return undefined;
      if (all) return n.text;
      const parent = n.parent;
      return ts.isPropertyAssignment(parent) && parent.initializer === n && parent.name.getText() === 'code' ? n.text : undefined;
    }),
  );
}

/** The codes `source` asserts (of those in `codes`). */
function assertedCodes(source: string, codes: ReadonlySet<string> = new Set(Object.keys(errorCodes))): Set<string> {
  const file = ts.createSourceFile('scan.ts', source, ts.ScriptTarget.Latest, true);
  const found = new Set<string>();
  const add = (texts: string[]) => {
    for (const t of texts) if (codes.has(t)) found.add(t);
  };
  const assertsIn = (node: ts.Node) => collect(node, (n) => (ts.isCallExpression(n) && assertsACode(n)) || undefined).length > 0;
  const literalsIn = (node: ts.Node) => collect(node, (n) => (isString(n) ? n.text : undefined));
  // for (const [status, code] of [[409, 'x'], …]) { expect(res.body.code).toBe(code) }: the rows are the expectations.
  for (const loop of collect(file, (n) => (ts.isForOfStatement(n) ? n : undefined))) {
    let table: ts.Expression = loop.expression;
    while (ts.isAsExpression(table) || ts.isParenthesizedExpression(table) || ts.isSatisfiesExpression(table))
      table = table.expression;
    if (ts.isArrayLiteralExpression(table) && assertsIn(loop.statement)) add(literalsIn(table));
  }
  for (const call of collect(file, (n) => (ts.isCallExpression(n) ? n : undefined))) {
    add(expectedCodes(call));
    // it.each(table)('name', fn): the table's rows are the expectations when fn asserts a code.
    const inner = call.expression;
    if (ts.isCallExpression(inner) && /^(it|test)(\.\w+)*\.each$/.test(inner.expression.getText())) {
      if (call.arguments.some(assertsIn)) add(inner.arguments.flatMap(literalsIn));
    }
  }
  return found;
}

/** A matcher call whose subject reads a code (its expected value may come from a table). */
function assertsACode(call: ts.CallExpression): boolean {
  if (!ts.isPropertyAccessExpression(call.expression)) return false;
  const root = expectOf(call.expression.expression);
  return Boolean(root && !root.negated && readsCode(root.subject));
}

describe('error codes', () => {
  const scan = (source: string) => [...assertedCodes(source)];

  it('counts a code where an assertion expects it of an answer', () => {
    expect(scan(`expect(res.body.code).toBe('conflict');`)).toEqual(['conflict']);
    expect(scan(`expect([res.status, res.body.code]).toEqual([409, 'conflict']);`)).toEqual(['conflict']);
    expect(scan(`expect(res.body).toMatchObject({ status: 409, code: 'conflict' });`)).toEqual(['conflict']);
    expect(scan(`await expect(p).rejects.toMatchObject({ code: 'conflict' });`)).toEqual(['conflict']);
    expect(scan(`expect(codes, 'label').toContain('conflict');`)).toEqual(['conflict']);
    expect(scan(`it.each([['a', 429, 'throttled']])('%s', async (_, s, c) => { expect(res.body.code).toBe(c); });`)).toEqual([
      'throttled',
    ]);
    expect(
      scan(`for (const [s, code] of [[502, 'payment_provider_error']] as const) { expect(res.body.code).toBe(code); }`),
    ).toEqual(['payment_provider_error']);
  });

  it('does not count a comment, a mock, a model, a counting helper, a label, a negation or a fixture', () => {
    expect(scan(`// expect(res.body.code).toBe('conflict');`)).toEqual([]);
    expect(scan(`/* expect([409, 'conflict']) */ expect(res.status).toBe(201);`)).toEqual([]);
    expect(scan(`route.fulfill({ body: JSON.stringify({ status: 409, code: 'conflict' }) });`)).toEqual([]);
    expect(
      scan(`const model = () => ({ status: 402, code: 'insufficient_credits' }); expect(res.body.code).toBe(model().code);`),
    ).toEqual([]);
    expect(scan(`expect(count((r) => r.code === 'conflict')).toBe(2);`)).toEqual([]);
    expect(scan(`expect(res.status, 'conflict').toBe(409);`)).toEqual([]);
    expect(scan(`expect(res.body.code).not.toBe('conflict');`)).toEqual([]);
    expect(scan(`expect(entry.status).toBe('conflict');`)).toEqual([]);
    expect(scan(`const cases = [{ status: 413, code: 'payload_too_large' }]; expect(res.body.code).toBe(c.code);`)).toEqual([]);
    expect(scan(`expect(res.body.code).toBe('conflicts');`)).toEqual([]);
    expect(scan(`it.each([['conflict']])('%s', async (c) => { expect(res.status).toBe(409); });`)).toEqual([]);
    expect(scan(`for (const c of ['conflict']) { expect(res.status).toBe(409); }`)).toEqual([]);
    expect(scan(`const cases = [[409, 'conflict']]; for (const [s, c] of cases) { expect(res.body.code).toBe(c); }`)).toEqual([]);
  });

  it('every code in packages/core/errors.ts is asserted by some test', () => {
    const files = testFiles(ROOT);
    expect(files.length).toBeGreaterThan(20);
    const asserted = new Set(files.flatMap((path) => [...assertedCodes(readFileSync(path, 'utf8'))]));
    const unasserted = Object.keys(errorCodes).filter((code) => !asserted.has(code));
    expect(unasserted, 'codes no test asserts: add a test that provokes each through the API').toEqual([]);
  });
});
