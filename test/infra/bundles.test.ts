import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
    // esbuild bundles every function (20 now) on a 2-core machine: minutes when it is busy.
  }, 300_000);

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

  it('bundles one copy of each Powertools package: all at one version, so one commons', () => {
    for (const b of bundles) {
      const { sources } = JSON.parse(readFileSync(`${b.file}.map`, 'utf8')) as { sources: string[] };
      const nested = sources.filter((s) => /node_modules\/@aws-lambda-powertools\/[^/]+\/node_modules\//.test(s));
      expect([b.id, nested]).toEqual([b.id, []]);
    }
  });

  it('loads every bundle in Node and finds an exported handler, with nothing on stderr', async () => {
    // Nothing on stderr: on a Node the SDK no longer supports, its clients warn at construction.
    const script = 'const m = await import(process.argv[1]); console.log(typeof m.handler);';
    const results = await Promise.all(
      bundles.map(async (b) => {
        const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script, b.file], {
          env: { PATH: process.env.PATH, AWS_REGION: 'eu-west-1', ...b.env },
        });
        return [b.id, stdout.trim(), stderr];
      }),
    );
    expect(results).toEqual(bundles.map((b) => [b.id, 'function', '']));
  });

  it('keeps the password dictionaries out of the bundles: a file beside the sign-up bundle, read on first check', async () => {
    const dictionaryWords = 'A123456ApasswordA12345678'; // the start of zxcvbn-ts's compressed password list
    const withFile = bundles.filter((b) => existsSync(join(dirname(b.file), 'password-dictionaries.json')));
    for (const b of bundles) expect([b.id, readFileSync(b.file, 'utf8').includes(dictionaryWords)]).toEqual([b.id, false]);
    expect(withFile.map((b) => b.id.replace(/Fn[0-9A-F]{8}$/, '')).sort()).toEqual(['Httpidentity', 'Httppublic']);

    // Sign-up checks the password before anything else: a common one is refused by the bundle
    // itself, from that file. Without the file the same call fails, so the file is what it reads.
    const signUp = bundles.find((b) => b.id.startsWith('Httppublic')) as (typeof bundles)[number];
    const script = `const { handler } = await import(process.argv[1]);
      const body = JSON.stringify({ email: 'owner@example.org', password: 'password1234', name: 'Owner', agencyName: 'Agency' });
      const event = { version: '2.0', routeKey: 'POST /v1/agencies', rawPath: '/v1/agencies', rawQueryString: '', headers: { 'content-type': 'application/json' }, body, isBase64Encoded: false,
        requestContext: { http: { method: 'POST', path: '/v1/agencies', sourceIp: '127.0.0.1' }, requestId: 'r1', routeKey: 'POST /v1/agencies', timeEpoch: Date.now() } };
      const context = { awsRequestId: 'a1', functionName: 'public', getRemainingTimeInMillis: () => 10000 };
      const result = await handler(event, context);
      console.log(JSON.stringify({ status: result.statusCode, body: JSON.parse(result.body) }));`;
    // No AWS endpoint is reachable from here: nothing may leave the machine even if a call were made.
    const env = { ...signUp.env, PATH: process.env.PATH, AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    const call = async (file: string) =>
      JSON.parse(
        (await run(process.execPath, ['--input-type=module', '-e', script, file], { env })).stdout
          .trim()
          .split('\n')
          .pop() as string,
      );

    const refused = await call(signUp.file);
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([{ field: 'password', message: expect.stringMatching(/too common/) }]);

    const copy = mkdtempSync(join(tmpdir(), 'bundle-'));
    try {
      cpSync(dirname(signUp.file), copy, { recursive: true });
      rmSync(join(copy, 'password-dictionaries.json'));
      expect((await call(join(copy, 'index.mjs'))).status).toBe(500);
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });
});
