/**
 * `npx tsx scripts/codemods/import-aliases.ts [--check]`: rewrites every relative import that
 * crosses into another `packages/<layer>/` folder as its alias (`../../packages/db/client` →
 * `#db/client`), and an alias that points into the importer's own folder back to a relative
 * path: same layer relative, across layers by alias. The aliases are package.json's `imports`
 * (`"#db/*": "./packages/db/*.ts"`), the one place they are defined.
 *
 * Covers static imports and re-exports (`import type` included), `import()`, `typeof
 * import()`, and the paths given to `vi.mock` and its siblings. Only `.ts` targets are
 * rewritten (the alias adds `.ts`): the console's `.tsx` components stay relative. Changed
 * files are then formatted by Biome (import order). Running it twice changes nothing.
 * `--check` writes nothing, lists what it would change, and exits 1 if anything.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

const root = resolve(import.meta.dirname, '../..');
const check = process.argv.includes('--check');

interface Alias {
  /** `#db/` */
  prefix: string;
  /** absolute, ending with a separator: `/repo/packages/db/` */
  dir: string;
}

function aliases(): Alias[] {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { imports?: Record<string, unknown> };
  return Object.entries(pkg.imports ?? {}).flatMap(([key, target]) => {
    const k = /^(#[\w-]+\/)\*$/.exec(key);
    const t = typeof target === 'string' ? /^\.\/(.+\/)\*\.ts$/.exec(target) : null;
    return k?.[1] && t?.[1] ? [{ prefix: k[1], dir: join(root, t[1]) }] : [];
  });
}

const vitestPathCalls = new Set(['mock', 'doMock', 'unmock', 'doUnmock', 'importActual', 'importMock']);

/** Every string literal in the file that names a module. */
function moduleSpecifiers(source: ts.SourceFile): ts.StringLiteralLike[] {
  const found: ts.StringLiteralLike[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node && ts.isStringLiteralLike(node)) found.push(node);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const isDynamicImport = callee.kind === ts.SyntaxKind.ImportKeyword;
      const isVitestPath =
        ts.isPropertyAccessExpression(callee) &&
        ts.isIdentifier(callee.expression) &&
        callee.expression.text === 'vi' &&
        vitestPathCalls.has(callee.name.text);
      if (isDynamicImport || isVitestPath) add(node.arguments[0]);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The `.ts` file a relative specifier names, if it names one. */
function resolveRelative(fromFile: string, spec: string): string | undefined {
  const base = resolve(dirname(fromFile), spec);
  for (const candidate of [`${base}.ts`, base.endsWith('.ts') ? base : '', join(base, 'index.ts')]) {
    if (candidate && existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const owner = (all: Alias[], file: string) => all.find((a) => file.startsWith(a.dir));
const withoutTs = (p: string) => p.replace(/\.ts$/, '').split(sep).join('/');

/** The specifier this file should use for `spec`, or undefined when it is right as it is. */
function rewrite(all: Alias[], file: string, spec: string): string | undefined {
  const home = owner(all, file);
  if (spec.startsWith('./') || spec.startsWith('../')) {
    const target = resolveRelative(file, spec);
    const layer = target && owner(all, target);
    if (!target || !layer || layer === home) return undefined;
    return layer.prefix + withoutTs(relative(layer.dir, target));
  }
  const layer = all.find((a) => spec.startsWith(a.prefix));
  if (!layer || layer !== home) return undefined;
  const rel = withoutTs(relative(dirname(file), join(layer.dir, spec.slice(layer.prefix.length))));
  return rel.startsWith('.') ? rel : `./${rel}`;
}

const all = aliases();
if (all.length === 0) throw new Error('package.json has no "#name/*": "./packages/<dir>/*.ts" imports');
const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.ts', '*.tsx', '*.mts'], {
  cwd: root,
  encoding: 'utf8',
})
  .split('\n')
  .filter((f) => f && existsSync(join(root, f)));

const changed: string[] = [];
let rewritten = 0;
for (const name of files) {
  const file = join(root, name);
  const text = readFileSync(file, 'utf8');
  const kind = name.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, kind);
  const edits = moduleSpecifiers(source).flatMap((lit) => {
    const to = rewrite(all, file, lit.text);
    return to ? [{ start: lit.getStart(source) + 1, end: lit.getEnd() - 1, from: lit.text, to }] : [];
  });
  if (edits.length === 0) continue;
  changed.push(name);
  rewritten += edits.length;
  if (check) for (const e of edits) console.log(`${name}: '${e.from}' → '${e.to}'`);
  let out = text;
  for (const e of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.to + out.slice(e.end);
  if (!check) writeFileSync(file, out);
}

console.log(`${rewritten} import paths in ${changed.length} files ${check ? 'to rewrite' : 'rewritten'}`);
if (check) process.exit(changed.length > 0 ? 1 : 0);
if (changed.length > 0) {
  // Formatting and import order only: the lint rules are `biome ci`'s to report.
  execFileSync('npx', ['biome', 'check', '--write', '--linter-enabled=false', ...changed], { cwd: root, stdio: 'inherit' });
}
