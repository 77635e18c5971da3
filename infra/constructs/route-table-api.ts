import { Validations } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { type HttpFunction, routes, type ThrottleClass, throttleClassOf } from '#http/routes';

export interface RouteTableApiProps {
  /** The Lambda serving each `fn` of the route table; `fallback` serves `$default`. */
  functions: Record<HttpFunction, lambda.IFunction>;
  /** Per-route limits by the route's throttle class (`default` also covers `$default`). */
  throttles: Record<ThrottleClass, { rateLimit: number; burstLimit: number }>;
}

/**
 * The HTTP API, one route per entry of the route table, and `$default` for everything else
 * (the fallback answers 404/405 as problem JSON). One `$default` stage: throttled per route by
 * each route's class (sign-up and login tighter, metering wider), with JSON access logs that
 * carry no headers (they would carry bearer tokens).
 */
export class RouteTableApi extends Construct {
  readonly api: apigw.HttpApi;
  readonly stage: apigw.HttpStage;
  readonly accessLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: RouteTableApiProps) {
    super(scope, id);
    // One integration per function, shared by its routes (each route still gets its own
    // invoke permission, scoped to that route).
    const integrations = new Map<HttpFunction, HttpLambdaIntegration>();
    for (const [fn, handler] of Object.entries(props.functions) as [HttpFunction, lambda.IFunction][]) {
      integrations.set(fn, new HttpLambdaIntegration(`${fn}-integration`, handler));
    }
    const integration = (fn: HttpFunction) => {
      const found = integrations.get(fn);
      if (!found) throw new Error(`No function for ${fn}`);
      return found;
    };

    this.api = new apigw.HttpApi(this, 'Api', {
      description: 'Agency accounts HTTP API v1',
      createDefaultStage: false,
      defaultIntegration: integration('fallback'),
    });
    const created: apigw.HttpRoute[] = [];
    for (const route of routes) {
      created.push(
        ...this.api.addRoutes({
          path: route.path,
          methods: [apigw.HttpMethod[route.method]],
          integration: integration(route.fn),
        }),
      );
    }

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', { retention: logs.RetentionDays.ONE_MONTH });
    this.stage = this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttles.default,
      accessLogSettings: {
        destination: new apigw.LogGroupLogDestination(this.accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: '$context.requestId',
            time: '$context.requestTimeEpoch',
            ip: '$context.identity.sourceIp',
            method: '$context.httpMethod',
            path: '$context.path',
            routeKey: '$context.routeKey',
            status: '$context.status',
            latencyMs: '$context.responseLatency',
            responseLength: '$context.responseLength',
            integrationError: '$context.integrationErrorMessage',
          }),
        ),
      },
    });

    // Routes of another class get their own limits (each route is throttled on its own).
    const routeSettings: Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }> = {};
    for (const route of routes) {
      const throttle = throttleClassOf(route);
      if (throttle === 'default') continue;
      const { rateLimit, burstLimit } = props.throttles[throttle];
      routeSettings[`${route.method} ${route.path}`] = { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit };
    }
    (this.stage.node.defaultChild as apigw.CfnStage).routeSettings = routeSettings;
    // The settings name routes by key: the stage must come after them.
    this.stage.node.addDependency(...created);

    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'Authentication happens in the handlers, per route, from the route table: session and assist tokens (HMAC, revocation checked in the table), hashed agency API keys and the platform key. Public routes (health, OpenAPI, sign-up, login) must stay open. An API Gateway authorizer would duplicate that logic and add a hop.',
    });
  }

  get url(): string {
    return this.stage.url;
  }
}
