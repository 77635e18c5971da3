import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Synthesized, synthApp } from './synth-app';

/** The console's deployment: private bucket behind OAC, /v1/* to the API, SPA fallback, headers, WAF in us-east-1. */
describe('console and edge stacks', () => {
  let synth: Synthesized;
  beforeAll(() => {
    synth = synthApp({ bundle: false, cfnValidation: false, context: { appUrl: 'https://console.example.org' } });
  });

  it('keeps the files in a private, TLS-only bucket that only CloudFront reads, through origin access control', () => {
    const t = synth.console;
    t.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'site/' }),
    });
    t.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 's3:GetObject', Principal: { Service: 'cloudfront.amazonaws.com' }, Effect: 'Allow' }),
        ]),
      },
    });
  });

  it('routes /v1/* to the HTTP API uncached with every viewer header but Host; client-side routes get index.html', () => {
    const dist = synth.console.findResources('AWS::CloudFront::Distribution');
    const config = Object.values(dist)[0]?.Properties.DistributionConfig;
    const api = config.CacheBehaviors.find((b: { PathPattern: string }) => b.PathPattern === '/v1/*');
    expect(api).toMatchObject({
      CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
      OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader
      AllowedMethods: expect.arrayContaining(['POST', 'PATCH', 'DELETE', 'PUT']),
      ViewerProtocolPolicy: 'https-only',
    });
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(config.DefaultCacheBehavior.FunctionAssociations).toHaveLength(1);
    // No custom error pages: they would replace the API's own 404 problem JSON with index.html.
    expect(config.CustomErrorResponses).toBeUndefined();
    const fn = Object.values(synth.console.findResources('AWS::CloudFront::Function'))[0]?.Properties.FunctionCode as string;
    expect(fn).toContain("r.uri = '/index.html'");
    expect(config.WebACLId).toBeDefined();
    expect(config.Logging).toBeDefined();
  });

  it('sends a CSP without inline scripts, HSTS, frame-ancestors none and nosniff', () => {
    const policy = Object.values(synth.console.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0]?.Properties
      .ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp: string = policy.ContentSecurityPolicy.ContentSecurityPolicy;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).toContain("frame-ancestors 'none'");
    expect(policy.StrictTransportSecurity).toMatchObject({
      AccessControlMaxAgeSec: 63072000,
      IncludeSubdomains: true,
      Override: true,
    });
    expect(policy.ContentTypeOptions).toEqual({ Override: true });
    expect(policy.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
  });

  it('puts the CLOUDFRONT web ACL, with a rate-based rule, in its own us-east-1 stack', () => {
    expect(synth.stacks.edge.region).toBe('us-east-1');
    synth.edge.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      Rules: Match.arrayWith([
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP' }) },
        }),
      ]),
    });
    // The console stack reads its ARN there at deploy time.
    synth.console.hasResourceProperties('Custom::AWS', { Create: Match.stringLikeRegexp('"region":"us-east-1"') });
  });

  it('points the credentials email and every console link at the console', () => {
    const fns = synth.stateless.findResources('AWS::Lambda::Function');
    const envs = Object.values(fns).map((f) => f.Properties.Environment?.Variables ?? {});
    const notifier = envs.find((e) => 'APP_LOGIN_URL' in e);
    expect(notifier).toMatchObject({
      APP_LOGIN_URL: 'https://console.example.org/sign-in',
      APP_URL: 'https://console.example.org',
    });
  });
});
