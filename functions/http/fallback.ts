import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { AppError } from '#core/errors';
import { type HttpResult, problem } from '#http/response';
import { matchRoute } from '#http/routes';

/**
 * API Gateway's `$default` route: a path the route table lacks is a problem-JSON 404, and a
 * known path with the wrong method a 405 with `Allow` (API Gateway alone would answer both
 * with a bare 404).
 */
export async function handler(event: APIGatewayProxyEventV2): Promise<HttpResult> {
  const method = event.requestContext.http.method;
  const { allowedMethods } = matchRoute(method, event.rawPath);
  if (allowedMethods.length > 0) {
    return problem(
      new AppError('method_not_allowed', `${method} is not allowed on ${event.rawPath}`, undefined, { allow: allowedMethods }),
    );
  }
  return problem(new AppError('not_found', `No route ${method} ${event.rawPath}`));
}
