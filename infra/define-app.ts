import { type App, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { serviceName } from './config';
import { ConsoleStack } from './stacks/console-stack';
import { EdgeStack } from './stacks/edge-stack';
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
  // The WAF web ACL for CloudFront must live in us-east-1: its own stack (edge-stack.ts).
  const edge = new EdgeStack(app, `${serviceName}-edge`, {
    description: 'Agency accounts: WAF web ACL for the console (us-east-1)',
  });
  const web = new ConsoleStack(app, `${serviceName}-console`, {
    description: 'Agency accounts: web console on S3 + CloudFront, /v1/* to the HTTP API',
    api: stateless.api,
  });
  web.addStackDependency(edge, 'reads the web ACL ARN the edge stack publishes');
  Tags.of(app).add('service', serviceName);

  // cdk-nag runs as a validation plugin after synthesis: an unacknowledged finding (error or
  // warning) fails the synth. Acknowledgements sit next to the constructs they concern.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { stateful, stateless, edge, console: web };
}
