import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthApp } from './synth-app';

/**
 * cdk-nag (AwsSolutions) runs as a validation plugin: any finding not acknowledged on its
 * construct makes `app.synth()` throw (the plugin reports success only with zero findings,
 * warnings included). Bundling is skipped: the rules read the templates, not the code.
 */
describe('cdk-nag AwsSolutions', () => {
  let synth: Synthesized;
  let synthError: unknown;
  beforeAll(() => {
    try {
      synth = synthApp({ bundle: false });
    } catch (err) {
      synthError = err;
    }
  });

  it('synthesizes: the validation plugin reported no unacknowledged finding', () => {
    expect(synthError instanceof Error ? synthError.message : synthError).toBeUndefined();
  });

  it('re-running the pack over the synthesized tree finds nothing left', () => {
    const report = new AwsSolutionsChecks().validateScope(synth.app);
    const findings = report.violations.map(
      (v) => `${v.severity} ${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
  });

  it('the validation report in the cloud assembly lists no violations', () => {
    const file = join(synth.assembly.directory, 'validation-report.json');
    const report = JSON.parse(readFileSync(file, 'utf8')) as { pluginReports: { violations?: unknown[] }[] };
    expect(report.pluginReports.flatMap((r) => r.violations ?? [])).toEqual([]);
  });
});
