import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { repoRoot } from '../../infra/config';
import { defineApp } from '../../infra/define-app';
import type { ConsoleStack } from '../../infra/stacks/console-stack';
import type { EdgeStack } from '../../infra/stacks/edge-stack';
import type { StatefulStack } from '../../infra/stacks/stateful-stack';
import type { StatelessStack } from '../../infra/stacks/stateless-stack';

export interface Synthesized {
  app: App;
  assembly: CloudAssembly;
  stacks: { stateful: StatefulStack; stateless: StatelessStack; edge: EdgeStack; console: ConsoleStack };
  stateful: Template;
  stateless: Template;
  edge: Template;
  console: Template;
}

export interface SynthOptions {
  /** false: skip esbuild (assets become placeholders) when only the templates' shape matters. */
  bundle: boolean;
  /**
   * false: skip CDK's built-in CloudFormation template checks (about 5 s); the cdk-nag test
   * keeps them on, as `cdk synth` does.
   * @default true
   */
  cfnValidation?: boolean;
  /**
   * More CDK context, as `-c key=value` gives it; `stripeLivemode` (required at deploy) is
   * 'false' unless given here; a key given as undefined is left out.
   */
  context?: Record<string, unknown>;
}

/** Synthesizes the app as `cdk synth` does: cdk.json's context (feature flags), the cdk-nag plugin. */
export function synthApp(options: SynthOptions): Synthesized {
  const cdkJson = JSON.parse(readFileSync(join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const given = { ...cdkJson.context, stripeLivemode: 'false', ...options.context };
  const context: Record<string, unknown> = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined));
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const app = new App({ context, builtinCloudFormationValidation: options.cfnValidation ?? true });
  const { stateful, stateless, edge, console } = defineApp(app);
  const assembly = app.synth();
  return {
    app,
    assembly,
    stacks: { stateful, stateless, edge, console },
    stateful: Template.fromStack(stateful),
    stateless: Template.fromStack(stateless),
    edge: Template.fromStack(edge),
    console: Template.fromStack(console),
  };
}
