/**
 * `npm run bench:console` (also run by `npm run bench:cold`): builds the web console if stale
 * and prints its bundle sizes; the JavaScript index.html loads up front must stay within
 * 200 KB gzipped (exit 1 beyond).
 */
import { buildConsole, consoleDist } from '#console/build';
import { bundleSizes, INITIAL_JS_BUDGET_GZIP } from '#console/bundle-size';

console.log(`\nWeb console (${await buildConsole()}; vite build, minified; gzip -9)\n`);
const { files, initialJsGzip } = bundleSizes(consoleDist);
console.log(`${'file'.padEnd(36)} ${'loaded'.padEnd(8)} ${'KB'.padStart(8)} ${'gzip KB'.padStart(8)}`);
for (const f of files)
  console.log(
    `${f.file.padEnd(36)} ${(f.initial ? 'initial' : 'lazy').padEnd(8)} ${(f.bytes / 1024).toFixed(1).padStart(8)} ${(f.gzipBytes / 1024).toFixed(1).padStart(8)}`,
  );
const within = initialJsGzip <= INITIAL_JS_BUDGET_GZIP;
console.log(
  `\ninitial JavaScript: ${(initialJsGzip / 1024).toFixed(1)} KB gzipped (budget ${INITIAL_JS_BUDGET_GZIP / 1024} KB): ${within ? 'within' : 'OVER'}`,
);
if (!within) process.exitCode = 1;
