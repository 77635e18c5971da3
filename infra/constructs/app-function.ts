import { join } from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { repoRoot, serviceName } from '../config';

export interface AppFunctionProps {
  /** The handler module, relative to the repository root, e.g. `functions/http/public.ts`. */
  entry: string;
  description: string;
  environment?: Record<string, string>;
  /** @default 10 seconds: HTTP handlers answer well within API Gateway's 30 s limit. */
  timeout?: Duration;
  /** @default 1024 MB: Lambda scales CPU with memory, and cold starts shrink with it. */
  memorySize?: number;
  /** It reads secrets (token key, platform key…): add the Parameters and Secrets extension. */
  readsSecrets?: boolean;
  /** Executions kept for this function alone (and its ceiling). @default none */
  reservedConcurrency?: number;
  /**
   * Why this function's policy has `Resource::*` statements. X-Ray's is always there (its
   * actions have no resource-level permissions); callers add their own reasons.
   */
  wildcardReasons?: string[];
}

/**
 * The project's Lambda function: the latest Node runtime on Graviton, one minified ESM bundle
 * with source maps, its own log group with bounded retention, X-Ray tracing, and a role that
 * starts empty: grants are added by the stack, one need at a time.
 */
export class AppFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: AppFunctionProps) {
    super(scope, id);

    // Created here rather than by Lambda on first write, so its retention is ours to set.
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH });

    // No AWSLambdaBasicExecutionRole: that managed policy may write to every log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (${serviceName})`,
    });
    this.logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Fn', {
      entry: join(repoRoot, props.entry),
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: join(repoRoot, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(10),
      reservedConcurrentExecutions: props.reservedConcurrency,
      role: this.role,
      logGroup: this.logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: serviceName,
        ...props.environment,
      },
      bundling: {
        // ESM lets esbuild tree-shake the ESM builds of our dependencies (middy is ESM-only).
        // Today every dependency resolves to an ESM build; the banner is there for the first
        // CommonJS one that calls require() on a Node built-in, which in an ESM bundle would
        // otherwise fail at load with "Dynamic require of … is not supported".
        format: OutputFormat.ESM,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        // Nothing external, not even @aws-sdk/*: the runtime's copy is a different (often
        // older) version than the one we test against, and it is loaded whole from disk,
        // while the bundled clients are tree-shaken into one file — smaller to load and
        // faster to cold start. Node built-ins are external anyway (platform: node).
        externalModules: [],
        esbuildArgs: {
          // Lambda gives credentials in the environment: bundle only that link of the chain.
          '--alias:@aws-sdk/credential-provider-node': './packages/core/aws-credentials.ts',
          // The password dictionaries are data, read on first use: a JSON file beside the bundle.
          '--alias:@zxcvbn-ts/language-common': './packages/domain/auth/password-dictionaries.ts',
        },
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (inputDir, outputDir) => [`node "${inputDir}/infra/password-dictionaries.mjs" "${outputDir}"`],
        },
      },
      // Secrets come through the Parameters and Secrets extension (packages/core/env.ts).
      ...(props.readsSecrets
        ? {
            paramsAndSecrets: lambda.ParamsAndSecretsLayerVersion.fromVersion(lambda.ParamsAndSecretsVersions.V1_0_103, {
              cacheEnabled: true,
              logLevel: lambda.ParamsAndSecretsLogLevel.WARN,
            }),
          }
        : {}),
    });

    Validations.of(this).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: [
        'xray:PutTraceSegments and xray:PutTelemetryRecords (tracing: ACTIVE) support no resource-level permissions',
        ...(props.wildcardReasons ?? []),
      ].join('; '),
    });
  }

  addToRolePolicy(statement: iam.PolicyStatement): void {
    this.fn.addToRolePolicy(statement);
  }
}
