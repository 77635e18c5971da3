import { globSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Which stack-tier files may share a worker's modules with the files before them (vitest's
 * `isolate: false`), and which need a fresh module graph each.
 *
 * Sharing saves what a file spends loading the SDKs, zod and the domain (a quarter of the
 * workers' CPU in the end-to-end tier, measured). It is safe for a file that talks to the stack
 * over HTTP and reads the table: the worker's environment points at the shared stack once
 * (support/stack.ts) and nothing changes it. A file isolates itself by doing any of what
 * `changesProcessState` matches: it sets the environment, mocks or spies, or loads handler
 * modules in its own process (directly, or by starting a gateway or a stack of its own),
 * whose module state (clients, hints, injected faults, the table they were pointed at) must
 * not leak into the next file; or by importing a support module that does (`statefulSupport`).
 */
const changesProcessState = new RegExp(
  [
    String.raw`process\.env\.\w+ *=[^=]`,
    String.raw`delete process\.env`,
    String.raw`vi\.(mock|doMock|spyOn|stubEnv|stubGlobal|useFakeTimers)`,
    'functions/',
    String.raw`start(LocalStack|Gateway)\(`,
  ].join('|'),
);

/** The support modules a file imports, as paths like `test/support/invoke.ts`. */
function supportImports(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/from '(\.{1,2}\/[^']+)'/g)].map((m) => m[1] as string);
  return specifiers.map((s) => `${join(dirname(file), s)}.ts`).filter((f) => f.startsWith('test/support/'));
}

/** Support modules that change the process, or import one that does: their importers do too. */
function statefulSupport(): Set<string> {
  const modules = new Map(globSync('test/support/**/*.ts').map((f) => [f, readFileSync(f, 'utf8')]));
  const stateful = new Set([...modules].filter(([, text]) => changesProcessState.test(text)).map(([f]) => f));
  for (let grew = true; grew; ) {
    grew = false;
    for (const [f, text] of modules) {
      if (stateful.has(f) || !supportImports(f, text).some((i) => stateful.has(i))) continue;
      stateful.add(f);
      grew = true;
    }
  }
  return stateful;
}

export function splitByIsolation(patterns: string[]): { shared: string[]; isolated: string[] } {
  const stateful = statefulSupport();
  const files = patterns.flatMap((p) => globSync(p)).sort();
  const isolated = files.filter((f) => {
    const text = readFileSync(f, 'utf8');
    return changesProcessState.test(text) || supportImports(f, text).some((i) => stateful.has(i));
  });
  return { shared: files.filter((f) => !isolated.includes(f)), isolated };
}
