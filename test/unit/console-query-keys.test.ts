/**
 * The console's query keys live in one module per feature (features/<name>/queries.ts, and
 * src/queries.ts for what every feature shares): a page that reads, invalidates or writes a
 * query names its key through those factories, never as a literal array, so a key can't drift
 * between the page that reads it and the one that invalidates it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../packages/console/src');
const KEY_MODULES = /(^|\/)(queries|keys)\.ts$/;
// `queryKey: [` in any options object, `setQueryData([` and its kin, `invalidateQueries({ queryKey: [`.
const LITERAL_KEY = /queryKey:\s*\[|Query(?:Data|State)\(\s*\[/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('the console query keys', () => {
  it('are written as literals only in the keys modules', () => {
    const files = sources(SRC).map((f) => relative(SRC, f));
    expect(files.filter((f) => KEY_MODULES.test(f)).length).toBeGreaterThan(5);
    const literals = files
      .filter((f) => !KEY_MODULES.test(f))
      .flatMap((f) =>
        readFileSync(join(SRC, f), 'utf8')
          .split('\n')
          .flatMap((line, i) => (LITERAL_KEY.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
      );
    expect(literals).toEqual([]);
  });
});
