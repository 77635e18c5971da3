import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The budget: JavaScript a first visit must load before the console can run. */
export const INITIAL_JS_BUDGET_GZIP = 200 * 1024;

export interface BundleFile {
  file: string;
  kind: 'js' | 'css';
  /** Loaded by index.html itself (script, modulepreload, stylesheet), not by a later import(). */
  initial: boolean;
  bytes: number;
  gzipBytes: number;
}

/** Every file of the built console's assets/, and which of them index.html loads up front. */
export function bundleSizes(dist: string): { files: BundleFile[]; initialJsGzip: number } {
  const html = readFileSync(join(dist, 'index.html'), 'utf8');
  const referenced = new Set([...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]));
  const listed = [...new Set([...referenced, ...assetsOf(dist)])];
  const files = listed
    .filter((f): f is string => !!f && /\.(js|css)$/.test(f))
    .map((file) => {
      const body = readFileSync(join(dist, file));
      return {
        file,
        kind: file.endsWith('.css') ? ('css' as const) : ('js' as const),
        initial: referenced.has(file),
        bytes: statSync(join(dist, file)).size,
        gzipBytes: gzipSync(body, { level: 9 }).length,
      };
    });
  const initialJsGzip = files.filter((f) => f.initial && f.kind === 'js').reduce((a, f) => a + f.gzipBytes, 0);
  return { files, initialJsGzip };
}

function assetsOf(dist: string): string[] {
  return readdirSync(join(dist, 'assets')).map((f) => `assets/${f}`);
}
