/**
 * What a cancelled transaction comes to is decided in one place (`resultOf`), from each named
 * item's declared meaning: the first failed item (in the transaction's order) that declares a
 * refusal refuses; failed items that declare nothing come back as `stale`, as they are now;
 * contention alone is a `conflict`; anything else is no outcome (the caller rethrows it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '#core/errors';
import { type CancelReason, type NamedItem, resultOf } from '#db/transact';

const write = { ConditionCheck: { TableName: 't', Key: { pk: 'p', sk: 's' }, ConditionExpression: 'x' } };
const item = <N extends string>(name: N, onConditionFailed?: NamedItem['onConditionFailed']): NamedItem<N> => ({
  name,
  write,
  onConditionFailed,
});
const reason = (name: string, code: string, old?: Record<string, unknown>): CancelReason => ({ name, code, item: old });

const items = [
  item('balance'),
  item('account', (old) => new AppError('account_closed', `closed: ${String(old?.status)}`)),
  item('quota', () => new AppError('feature_not_available', 'over')),
  item('entry'),
];

describe('resultOf', () => {
  it('hands back undeclared failed items as stale, with their old images, and every reason', () => {
    const reasons = [
      reason('balance', 'ConditionalCheckFailed', { balance: 3 }),
      reason('account', 'None'),
      reason('quota', 'TransactionConflict'),
      reason('entry', 'ConditionalCheckFailed'),
    ];
    expect(resultOf(items, reasons)).toEqual({
      kind: 'stale',
      failed: { balance: { old: { balance: 3 } }, entry: { old: undefined } },
      reasons: [reasons[0], reasons[2], reasons[3]],
    });
  });

  it('refuses with the declared meaning of the first failed item that declares one, given its old image', () => {
    const result = resultOf(items, [
      reason('balance', 'ConditionalCheckFailed', { balance: 3 }),
      reason('account', 'ConditionalCheckFailed', { status: 'closed' }),
      reason('quota', 'ConditionalCheckFailed'),
      reason('entry', 'None'),
    ]);
    expect(result?.kind).toBe('refused');
    if (result?.kind !== 'refused') return;
    expect(result.item).toBe('account');
    expect(result.error).toMatchObject({ code: 'account_closed', detail: 'closed: closed' });
    // Every failed item still comes back: a caller may give one precedence over the refusal.
    expect(Object.keys(result.failed)).toEqual(['balance', 'account', 'quota']);
  });

  it('is a conflict when only contention cancelled it, and no outcome for anything else', () => {
    const conflicted = [reason('balance', 'TransactionConflict'), reason('account', 'None')];
    expect(resultOf(items, conflicted)).toEqual({ kind: 'conflict', reasons: [conflicted[0]] });
    expect(resultOf(items, [reason('balance', 'ValidationError'), reason('account', 'None')])).toBeUndefined();
  });

  it('keeps the first image of a name given twice', () => {
    const twice = [item('outbox'), item('outbox')];
    const result = resultOf(twice, [
      reason('outbox', 'ConditionalCheckFailed', { n: 1 }),
      reason('outbox', 'ConditionalCheckFailed', { n: 2 }),
    ]);
    expect(result).toMatchObject({ kind: 'stale', failed: { outbox: { old: { n: 1 } } } });
  });
});

const ROOT = resolve(import.meta.dirname, '../..');
const sources = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' || e.name === 'dist' ? [] : sources(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });

describe('a failed write', () => {
  it('is read from the result, never by catching what transact() throws', () => {
    const files = ['packages', 'functions']
      .flatMap((d) => sources(join(ROOT, d)))
      .map((f) => relative(ROOT, f))
      .filter((f) => f !== 'packages/db/transact.ts');
    expect(files.length).toBeGreaterThan(100);
    const caught = files.flatMap((f) =>
      readFileSync(join(ROOT, f), 'utf8')
        .split('\n')
        .flatMap((line, i) => (/instanceof (ConditionsFailed|TransactionConflicted)\b/.test(line) ? [`${f}:${i + 1}`] : [])),
    );
    expect(caught).toEqual([]);
  });
});
