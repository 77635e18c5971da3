import { describe, expect, it } from 'vitest';
import { consoleDist } from '#console/build';
import { bundleSizes, INITIAL_JS_BUDGET_GZIP } from '#console/bundle-size';

// The console was built by the test set-up (global-setup.ts), as npm start builds it.
describe('the web console bundle', () => {
  it('loads at most 200 KB of gzipped JavaScript up front', () => {
    const { files, initialJsGzip } = bundleSizes(consoleDist);
    expect(files.filter((f) => f.initial && f.kind === 'js').length).toBeGreaterThan(0);
    expect(initialJsGzip).toBeLessThanOrEqual(INITIAL_JS_BUDGET_GZIP);
  });
});
