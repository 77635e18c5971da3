import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type AppError, errorCodes } from '#core/errors';

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
  return {
    statusCode: err.status,
    headers: { 'content-type': 'application/problem+json', ...securityHeaders, ...factHeaders(err) },
    body: JSON.stringify(problemBody(err, instance)),
  };
}

/** The problem's body alone: a response's, or one answer among several (a usage batch's events). */
export function problemBody(err: AppError, instance?: string) {
  return {
    type: `https://docs.agency-accounts.dev/errors/${err.code}`,
    title: errorCodes[err.code].title,
    status: err.status,
    code: err.code,
    ...(err.status < 500 && err.detail ? { detail: err.detail } : {}),
    ...(err.errors?.length ? { errors: err.errors } : {}),
    ...(err.status < 500 ? err.facts.extensions : {}),
    ...(instance ? { instance } : {}),
  };
}

/** The HTTP form of what an error says about retrying, allowed methods and replays. */
function factHeaders({ facts }: AppError): Record<string, string> {
  return {
    ...(facts.retryAfterSeconds !== undefined ? { 'retry-after': String(facts.retryAfterSeconds) } : {}),
    ...(facts.allow ? { allow: facts.allow.join(', ') } : {}),
    ...(facts.replayed ? { 'idempotent-replayed': 'true' } : {}),
  };
}

/** Marks an answer that is the remembered outcome of an earlier request with the same Idempotency-Key. */
export const replayHeader = (replayed: boolean): Record<string, string> => (replayed ? { 'idempotent-replayed': 'true' } : {});
