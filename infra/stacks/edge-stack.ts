import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { readConfig, serviceName } from '../config';

/** Where the console stack finds the web ACL: an SSM parameter in us-east-1, read across regions. */
export const webAclParameterName = `/${serviceName}/console/web-acl-arn`;

/**
 * The WAF web ACL in front of CloudFront. A CLOUDFRONT-scope web ACL can only be created in
 * us-east-1, so it has its own stack pinned there (the others stay region-agnostic); its ARN is
 * published as an SSM parameter that the console stack reads with a cross-region call (what
 * CDK's crossRegionReferences does, without forcing every stack to name its region).
 */
export class EdgeStack extends Stack {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, { ...props, env: { ...props.env, region: 'us-east-1' } });
    const config = readConfig(this);
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    this.webAcl = new wafv2.CfnWebACL(this, 'ConsoleWebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('console'),
      rules: [
        {
          // One client IP flooding the console or the API through CloudFront is blocked for a while.
          name: 'rate-per-ip',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: config.consoleRateLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
          visibilityConfig: visibility('rate-per-ip'),
        },
        {
          name: 'aws-common',
          priority: 1,
          overrideAction: { none: {} },
          statement: {
            managedRuleGroupStatement: {
              vendorName: 'AWS',
              name: 'AWSManagedRulesCommonRuleSet',
              // JSON bodies larger than 8 KiB are normal here (campaign settings up to 32 KiB).
              ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }],
            },
          },
          visibilityConfig: visibility('aws-common'),
        },
        {
          name: 'aws-known-bad-inputs',
          priority: 2,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: visibility('aws-known-bad-inputs'),
        },
      ],
    });
    new ssm.StringParameter(this, 'WebAclArn', {
      parameterName: webAclParameterName,
      stringValue: this.webAcl.attrArn,
      description: 'The console distribution web ACL (read by the console stack)',
    });
  }
}
