import { globSync, readFileSync } from 'node:fs';

/**
 * Which stack-tier files may share a worker's modules with the files before them (vitest's
 * `isolate: false`), and which need a fresh module graph each.
 *
 * Sharing saves what a file spends loading the SDKs, zod and the domain (a quarter of the
 * workers' CPU in the end-to-end tier, measured). It is safe for a file that talks to the stack
 * over HTTP and reads the table: the worker's environment points at the shared stack once
 * (support/stack.ts) and nothing changes it. A file isolates itself by doing any of what
 * `changesProcessState` matches: it sets the environment, mocks or spies, or loads handler
 * modules in its own process (directly, through the support modules that do, or by starting a
 * gateway or a stack of its own), whose module state (clients, hints, injected faults, the
 * table they were pointed at) must not leak into the next file.
 */
const changesProcessState = new RegExp(
  [
    String.raw`process\.env\.\w+ *=[^=]`,
    String.raw`delete process\.env`,
    String.raw`vi\.(mock|doMock|spyOn|stubEnv|stubGlobal|useFakeTimers)`,
    'functions/',
    String.raw`start(LocalStack|Gateway)\(`,
    'support/(invoke|private-stripe|containers|own-stack|reselling|auto-top-up|interleavings)',
  ].join('|'),
);

export function splitByIsolation(patterns: string[]): { shared: string[]; isolated: string[] } {
  const files = patterns.flatMap((p) => globSync(p)).sort();
  const isolated = files.filter((f) => changesProcessState.test(readFileSync(f, 'utf8')));
  return { shared: files.filter((f) => !isolated.includes(f)), isolated };
}
