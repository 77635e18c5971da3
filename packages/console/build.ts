/**
 * Builds the console: its API types from the OpenAPI document the code generates (so an API
 * change breaks the console's typecheck), then `vite build` into dist/ — only when a source or
 * the API changed since the last build (a hash kept in dist/.build-hash), so `npm start` and the
 * test set-up pay for a build once.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const consoleDir = resolve(import.meta.dirname);
export const consoleDist = join(consoleDir, 'dist');
const schemaFile = join(consoleDir, 'src/api/schema.d.ts');
const hashFile = join(consoleDist, '.build-hash');

/** Writes src/api/schema.d.ts from the served OpenAPI document; true when it changed. */
export async function generateApiTypes(): Promise<boolean> {
  const [{ openApiDocument }, { default: openapiTS, astToString }] = await Promise.all([
    import('#http/openapi'),
    import('openapi-typescript'),
  ]);
  const ast = await openapiTS(openApiDocument() as unknown as Parameters<typeof openapiTS>[0]);
  const text = `// Generated from GET /v1/openapi.json by packages/console/build.ts. Do not edit.\n${astToString(ast)}`;
  if (existsSync(schemaFile) && readFileSync(schemaFile, 'utf8') === text) return false;
  writeFileSync(schemaFile, text);
  return true;
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else hash.update(path).update(readFileSync(path));
    }
  };
  walk(join(consoleDir, 'src'));
  if (existsSync(join(consoleDir, 'public'))) walk(join(consoleDir, 'public'));
  for (const f of ['index.html', 'vite.config.ts']) hash.update(readFileSync(join(consoleDir, f)));
  return hash.digest('hex');
}

/** Generates the types and builds dist/ when stale. Returns what it did, for one log line. */
export async function buildConsole(opts: { force?: boolean } = {}): Promise<'built' | 'up to date'> {
  await generateApiTypes();
  const hash = sourceHash();
  if (!opts.force && existsSync(hashFile) && readFileSync(hashFile, 'utf8') === hash) return 'up to date';
  const { build } = await import('vite');
  // React's production build (JSX runtime included), even from a test process (vitest sets NODE_ENV=test).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(consoleDir, 'vite.config.ts'), root: consoleDir, mode: 'production', logLevel: 'warn' });
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
  writeFileSync(hashFile, hash);
  return 'built';
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const typesOnly = process.argv.includes('--types');
  if (typesOnly) await generateApiTypes();
  else console.log(`console: ${await buildConsole({ force: process.argv.includes('--force') })}`);
}
