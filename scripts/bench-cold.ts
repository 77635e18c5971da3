/**
 * `npm run bench:cold`: synthesizes the CDK app (real esbuild bundles, as `cdk synth` builds
 * them), then prints each function's bundle size (minified, and gzipped as Lambda stores it)
 * and its module-load time: the time to import the bundle in a fresh Node process, top-level
 * code included (the init phase of a cold start, minus Lambda's own runtime start). Best of 3.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { synthApp } from '../test/infra/synth-app';

const RUNS = Number(process.env.COLD_RUNS ?? 3);

const synth = synthApp({ bundle: true, cfnValidation: false });
// Every deployed function: the stateless stack's, and the token secret's rotation beside its secret.
const fns = {
  ...synth.stateless.findResources('AWS::Lambda::Function'),
  ...synth.stateful.findResources('AWS::Lambda::Function'),
};
const rows = Object.entries(fns)
  .map(([id, f]) => {
    const hash = String(f.Properties.Code.S3Key).replace(/\.zip$/, '');
    const vars = Object.entries((f.Properties.Environment?.Variables ?? {}) as Record<string, unknown>);
    const env = Object.fromEntries(vars.map(([k, v]) => [k, typeof v === 'string' ? v : `placeholder-${k}`]));
    const file = join(synth.assembly.directory, `asset.${hash}`, 'index.mjs');
    return { name: id.replace(/Fn[0-9A-F]{8}$/, '').replace(/^(Http)/, ''), file, env };
  })
  .filter((r) => !r.name.startsWith('LogRetention') && !r.name.startsWith('CustomResource'));

const loadScript = 'const t = performance.now(); await import(process.argv[1]); console.log(performance.now() - t);';
const loadMs = (file: string, env: Record<string, string>) =>
  Number(
    execFileSync(process.execPath, ['--input-type=module', '-e', loadScript, file], {
      env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...env },
      encoding: 'utf8',
    }).trim(),
  );

console.log(`Function bundles (esbuild, minified ESM, as synthesized); module load = best of ${RUNS} fresh processes\n`);
console.log(
  `${'function'.padEnd(28)} ${'bundle KB'.padStart(10)} ${'gzip KB'.padStart(8)} ${'load ms'.padStart(8)}  data files beside it`,
);
let largest = 0;
for (const r of rows.sort((a, b) => a.name.localeCompare(b.name))) {
  const bytes = statSync(r.file).size;
  largest = Math.max(largest, bytes);
  const gz = gzipSync(readFileSync(r.file)).length;
  const best = Math.min(...Array.from({ length: RUNS }, () => loadMs(r.file, r.env)));
  // Files the bundle reads when it needs them (not at load), e.g. the password dictionaries.
  const dir = dirname(r.file);
  const data = readdirSync(dir)
    .filter((f) => f !== 'index.mjs' && !f.endsWith('.map'))
    .map((f) => `${f} ${(statSync(join(dir, f)).size / 1024).toFixed(0)} KB`);
  console.log(
    `${r.name.padEnd(28)} ${(bytes / 1024).toFixed(1).padStart(10)} ${(gz / 1024).toFixed(1).padStart(8)} ${best.toFixed(1).padStart(8)}  ${data.join(', ')}`,
  );
}
console.log(`\nlargest bundle: ${(largest / 1024).toFixed(1)} KB`);
