import { execFileSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { CfnOutput, DockerImage, Duration, Fn, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { contentSecurityPolicy } from '#console/security-headers';
import { readConfig, repoRoot } from '../config';
import type { RouteTableApi } from '../constructs/route-table-api';
import { webAclParameterName } from './edge-stack';

export interface ConsoleStackProps extends StackProps {
  api: RouteTableApi;
}

const consoleDir = join(repoRoot, 'packages/console');

/**
 * The web console on CloudFront: its files in a private S3 bucket reached only through origin
 * access control, `/v1/*` forwarded to the HTTP API (one origin for the browser: no CORS),
 * client-side routes answered with index.html by a viewer-request function (not by error
 * pages, which would also replace the API's own 404s), the console's security headers, and the
 * WAF web ACL of the us-east-1 edge stack.
 */
export class ConsoleStack extends Stack {
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: ConsoleStackProps) {
    super(scope, id, props);
    const config = readConfig(this);

    const logs = new s3.Bucket(this, 'Logs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront's standard logs are written with an ACL.
      objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    Validations.of(logs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself: logging it into itself would loop.',
    });
    const site = new s3.Bucket(this, 'Site', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: logs,
      serverAccessLogsPrefix: 'site/',
    });

    const headers = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Console security headers (packages/console/security-headers.ts)',
      securityHeadersBehavior: {
        contentSecurityPolicy: { contentSecurityPolicy, override: true },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(730),
          includeSubdomains: true,
          preload: true,
          override: true,
        },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        contentTypeOptions: { override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN, override: true },
      },
    });
    const spaFallback = new cloudfront.Function(this, 'SpaFallback', {
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'Client-side routes (no file extension) get index.html',
      code: cloudfront.FunctionCode.fromInline(
        `function handler(event) { var r = event.request; if (r.uri.indexOf('.') === -1) { r.uri = '/index.html'; } return r; }`,
      ),
    });

    // The stage URL is https://{api-id}.execute-api.{region}.amazonaws.com/: its host is the origin.
    const apiHost = Fn.select(2, Fn.split('/', props.api.url));
    const certificate = config.consoleCertificateArn
      ? acm.Certificate.fromCertificateArn(this, 'Certificate', config.consoleCertificateArn)
      : undefined;

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Agency accounts web console and API',
      defaultRootObject: 'index.html',
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      minimumProtocolVersion: certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
      domainNames: config.consoleDomain && certificate ? [config.consoleDomain] : undefined,
      certificate,
      webAclId: this.webAclArn(),
      enableLogging: true,
      logBucket: logs,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(site),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headers,
        functionAssociations: [{ function: spaFallback, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST }],
      },
      additionalBehaviors: {
        '/v1/*': {
          origin: new origins.HttpOrigin(apiHost, { protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          // Every viewer header (Authorization, Idempotency-Key, Stripe-Signature…) but Host, which must be the API's.
          originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
          responseHeadersPolicy: headers,
        },
      },
    });
    Validations.of(this.distribution).acknowledge(
      {
        id: 'AwsSolutions-CFR1',
        reason: 'Agencies and their clients are anywhere: no country is blocked. Abuse is handled by the WAF rate rule.',
      },
      {
        id: 'AwsSolutions-CFR4',
        reason:
          'Without consoleDomain/consoleCertificateArn the distribution uses the default *.cloudfront.net certificate, which cannot be pinned to TLS 1.2; with them, TLSv1.2_2021 is set.',
      },
    );

    this.deployFiles(site);
    this.acknowledgeProviders();
    new CfnOutput(this, 'ConsoleUrl', {
      value: `https://${config.consoleDomain ?? this.distribution.distributionDomainName}`,
      description: 'The web console (set -c appUrl to it so emails and Stripe lead back here)',
    });
  }

  /**
   * CDK's own singleton functions behind BucketDeployment and AwsCustomResource (children of the
   * stack, shared by every use): their policies and runtimes are CDK's, acknowledged here and
   * nowhere else.
   */
  private acknowledgeProviders(): void {
    const basicRole = 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]';
    for (const child of this.node.children) {
      if (child.node.id.startsWith('Custom::CDKBucketDeployment')) {
        const deployReason =
          "CDK's BucketDeployment provider: it copies the built console from the CDK assets bucket into the site bucket and invalidates CloudFront; its grants are CDK's (read the asset objects, write and list the site bucket, cloudfront:CreateInvalidation which has no resource-level form).";
        Validations.of(child).acknowledge(
          { id: basicRole, reason: `${deployReason} Logs through the basic execution role.` },
          { id: 'AwsSolutions-L1', reason: `${deployReason} Its runtime is chosen by CDK and moves with aws-cdk-lib.` },
          ...[
            'Action::s3:GetBucket*',
            'Action::s3:GetObject*',
            'Action::s3:List*',
            'Action::s3:Abort*',
            'Action::s3:DeleteObject*',
            'Resource::*',
            'Resource::<SiteE53D7754.Arn>/*',
            'Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*',
          ].map((what) => ({ id: `AwsSolutions-IAM5[${what}]`, reason: deployReason })),
        );
      }
      if (child.node.id.startsWith('AWS679f53fac002430cb0da5b7982bd2287')) {
        Validations.of(child).acknowledge({
          id: basicRole,
          reason:
            "CDK's AwsCustomResource provider (reads the web ACL ARN from SSM in us-east-1; its policy names that one parameter): logs through the basic execution role.",
        });
      }
    }
  }

  /** The edge stack's web ACL ARN, read from its SSM parameter in us-east-1 at deploy time. */
  private webAclArn(): string {
    const parameterArn = this.formatArn({
      service: 'ssm',
      region: 'us-east-1',
      resource: 'parameter',
      resourceName: webAclParameterName.slice(1),
    });
    const read = new cr.AwsCustomResource(this, 'WebAclArn', {
      onUpdate: {
        service: 'SSM',
        action: 'getParameter',
        parameters: { Name: webAclParameterName },
        region: 'us-east-1',
        physicalResourceId: cr.PhysicalResourceId.of(webAclParameterName),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({ resources: [parameterArn] }),
      installLatestAwsSdk: false,
    });
    return read.getResponseField('Parameter.Value');
  }

  /**
   * The built console, uploaded on deploy: hashed assets cached for a year, index.html always
   * revalidated (and invalidated at the edge). The build runs at synth, locally (offline), through
   * packages/console/build.ts — the same step `npm start` runs.
   */
  private deployFiles(site: s3.Bucket): void {
    const built = s3deploy.Source.asset(consoleDir, {
      bundling: {
        image: DockerImage.fromRegistry('node:24'),
        local: {
          tryBundle(outputDir: string) {
            // The Node running the synth, with tsx as its loader (not whichever `npx` PATH finds first).
            execFileSync(process.execPath, ['--import', import.meta.resolve('tsx'), join(consoleDir, 'build.ts')], {
              cwd: repoRoot,
              stdio: 'inherit',
            });
            cpSync(join(consoleDir, 'dist'), outputDir, { recursive: true, filter: (src) => !src.endsWith('.build-hash') });
            return true;
          },
        },
      },
    });
    const assets = new s3deploy.BucketDeployment(this, 'Assets', {
      sources: [built],
      destinationBucket: site,
      exclude: ['index.html'],
      cacheControl: [s3deploy.CacheControl.fromString('public, max-age=31536000, immutable')],
      prune: false,
    });
    const index = new s3deploy.BucketDeployment(this, 'Index', {
      sources: [built],
      destinationBucket: site,
      exclude: ['*'],
      include: ['index.html'],
      cacheControl: [s3deploy.CacheControl.fromString('no-cache')],
      prune: false,
      distribution: this.distribution,
      distributionPaths: ['/index.html'],
    });
    // The new index.html must never point at assets not uploaded yet.
    index.node.addDependency(assets);
  }
}
