import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { serviceName } from './config';
import { StatefulStack } from './stacks/stateful-stack';
import { StatelessStack } from './stacks/stateless-stack';

/**
 * The whole app on a given `App`: the CLI entry (app.ts) and the tests build the same thing.
 * Stacks are environment-agnostic: nothing here needs an account or region at synth time.
 */
export function defineApp(app: App) {
  const stateful = new StatefulStack(app, `${serviceName}-stateful`, {
    description: 'Agency accounts: table, queues, sealing key, secrets (retained)',
  });
  const stateless = new StatelessStack(app, `${serviceName}-stateless`, {
    description: 'Agency accounts: HTTP API, functions, outbox workers',
    data: stateful,
  });
  stateless.addStackDependency(stateful, 'functions reference the table, queues, key and secrets');
  Tags.of(app).add('service', serviceName);

  // cdk-nag runs as a validation plugin after synthesis: an unacknowledged finding (error or
  // warning) fails the synth. Acknowledgements sit next to the constructs they concern.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stateful, stateless };
}
