import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type AppError, errorCodes } from '../core/errors';

export type HttpResult = APIGatewayProxyStructuredResultV2 & { statusCode: number };

const securityHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', ...securityHeaders, ...headers },
    body: JSON.stringify(body),
  };
}

export function noContent(headers: Record<string, string> = {}): HttpResult {
  return { statusCode: 204, headers: { ...securityHeaders, ...headers } };
}

export function text(statusCode: number, body: string, contentType: string, headers: Record<string, string> = {}): HttpResult {
  return { statusCode, headers: { 'content-type': contentType, ...securityHeaders, ...headers }, body };
}

/** RFC 9457 problem JSON. `detail` is only exposed for client errors (< 500). */
export function problem(err: AppError, instance?: string): HttpResult {
  const { title } = errorCodes[err.code];
  const body = {
    type: `https://docs.agency-accounts.dev/errors/${err.code}`,
    title,
    status: err.status,
    code: err.code,
    ...(err.status < 500 && err.detail ? { detail: err.detail } : {}),
    ...(err.errors?.length ? { errors: err.errors } : {}),
    ...(instance ? { instance } : {}),
  };
  return {
    statusCode: err.status,
    headers: { 'content-type': 'application/problem+json', ...securityHeaders, ...err.headers },
    body: JSON.stringify(body),
  };
}
