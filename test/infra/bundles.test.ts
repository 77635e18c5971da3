import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthApp } from './synth-app';

const run = promisify(execFile);

/**
 * Real esbuild bundling, then each bundle is loaded the way Lambda loads it (an ES module,
 * top-level code runs) in a fresh Node process: proves the ESM format, the createRequire
 * banner and the bundled AWS SDK work together, with no network and no credentials.
 */
describe('function bundles', () => {
  let synth: Synthesized;
  let bundles: { id: string; file: string; env: Record<string, string> }[];
  beforeAll(() => {
    synth = synthApp({ bundle: true, cfnValidation: false });
    const fns = [
      ...Object.entries(synth.stateless.findResources('AWS::Lambda::Function')),
      // The token secret's rotation function lives beside its secret.
      ...Object.entries(synth.stateful.findResources('AWS::Lambda::Function')),
    ];
    bundles = fns.map(([id, f]) => {
      const hash = String(f.Properties.Code.S3Key).replace(/\.zip$/, '');
      // The function's own environment: a variable it reads at cold start but was not
      // given would fail the load. References (ARNs, names) become placeholders.
      const vars = Object.entries(f.Properties.Environment.Variables as Record<string, unknown>);
      const env = Object.fromEntries(vars.map(([k, v]) => [k, typeof v === 'string' ? v : `placeholder-${k}`]));
      return { id, file: join(synth.assembly.directory, `asset.${hash}`, 'index.mjs'), env };
    });
  }, 120_000);

  it('builds one ESM bundle (index.mjs) with a source map per function', () => {
    expect(bundles.length).toBeGreaterThan(0);
    for (const b of bundles) {
      expect([b.id, existsSync(b.file), existsSync(`${b.file}.map`)]).toEqual([b.id, true, true]);
    }
  });

  it('bundles only the environment link of the SDK credential chain (Lambda passes credentials in env)', () => {
    for (const b of bundles) {
      const code = readFileSync(b.file, 'utf8');
      // Markers of the providers only the node chain adds: credential processes, containers, SSO, web identity.
      const marker = /credential_process|AWS_CONTAINER_CREDENTIALS_RELATIVE_URI|sso_session|AWS_WEB_IDENTITY_TOKEN_FILE/.exec(
        code,
      );
      expect([b.id, marker?.[0]]).toEqual([b.id, undefined]);
    }
  });

  it('bundles zod/mini, never classic zod (about 60 KB more in every function)', () => {
    for (const b of bundles) {
      const { sources } = JSON.parse(readFileSync(`${b.file}.map`, 'utf8')) as { sources: string[] };
      expect([b.id, sources.filter((s) => s.includes('node_modules/zod/v4/classic/'))]).toEqual([b.id, []]);
    }
  });

  it('loads every bundle in Node and finds an exported handler', async () => {
    const script = 'const m = await import(process.argv[1]); console.log(typeof m.handler);';
    const results = await Promise.all(
      bundles.map(async (b) => {
        const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, b.file], {
          env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...b.env },
        });
        return [b.id, stdout.trim()];
      }),
    );
    expect(results).toEqual(bundles.map((b) => [b.id, 'function']));
  });
});
