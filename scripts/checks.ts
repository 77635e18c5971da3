/**
 * `npm run checks`: the static checks `npm test` runs before the tests (types of the three
 * TypeScript projects, biome, the import-alias rule), side by side. Each is one process on one
 * core, so on two cores they take about half of their sum (the type check of the project is
 * the longest). Each one's output is printed whole when it ends; any failure fails the run.
 * Arguments keep the checks whose names start with one of them (`npm run typecheck`: `types`).
 */
import { spawn } from 'node:child_process';

const checks: Array<[name: string, command: string[]]> = [
  ['types: project', ['tsc', '-p', '.']],
  ['types: console', ['tsc', '-p', 'packages/console']],
  ['types: console tests', ['tsc', '-p', 'test/console']],
  ['lint', ['biome', 'ci', '.']],
  ['import aliases', ['tsx', 'scripts/codemods/import-aliases.ts', '--check']],
];

function run([name, [bin, ...args]]: [string, string[]]): Promise<boolean> {
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(`node_modules/.bin/${bin}`, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('error', (err) => (output += `${err.message}\n`));
    child.on('close', (code) => {
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${code === 0 ? 'ok  ' : 'FAIL'} ${name} (${seconds} s)\n${output}`);
      resolve(code === 0);
    });
  });
}

const wanted = process.argv.slice(2);
const chosen = checks.filter(([name]) => !wanted.length || wanted.some((w) => name.startsWith(w)));
if (!chosen.length) throw new Error(`no check is named ${wanted.join(' or ')}`);
const passed = await Promise.all(chosen.map(run));
if (passed.includes(false)) process.exit(1);
