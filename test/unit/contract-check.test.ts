/**
 * The tests' contract check (support/contract.ts) with its validators loaded precompiled from
 * node_modules/.cache: it still refuses what the document does not allow, in a response (an
 * undeclared field, a wrong code's status, an undeclared status) and in a request the server
 * accepted (a query value out of range, read as the integer the document types).
 */
import { describe, expect, it } from 'vitest';
import { checkAcceptedRequest, checkResponse } from '../support/contract';

const problem = (status: number, code: string) => ({
  type: 'about:blank',
  title: 'Not found',
  status,
  code,
  detail: 'No such sub-account.',
});
const notFound = (body: unknown) => ({
  method: 'GET',
  path: '/v1/sub-accounts/sub_01m98afxbsgnrhabd4n3q43h38',
  status: 404,
  contentType: 'application/problem+json',
  body,
});

describe('the contract check', () => {
  it('passes a problem the document declares, and refuses one with an undeclared field', () => {
    expect(() => checkResponse(notFound(problem(404, 'not_found')))).not.toThrow();
    expect(() => checkResponse(notFound({ ...problem(404, 'not_found'), debug: 'stack trace' }))).toThrow(
      /does not match the published schema/,
    );
  });

  it('refuses a code answered with another status, and a status the route does not declare', () => {
    expect(() => checkResponse({ ...notFound(problem(404, 'conflict')), status: 404 })).toThrow();
    expect(() => checkResponse({ ...notFound(problem(418, 'not_found')), status: 418 })).toThrow(/status not declared/);
  });

  it('checks the gateway fallback (no route) against the problem schema', () => {
    const fallback = { ...notFound(problem(404, 'not_found')), path: '/v1/no-such-route' };
    expect(() => checkResponse(fallback)).not.toThrow();
    expect(() => checkResponse({ ...fallback, body: { status: 404 } })).toThrow(/does not match/);
  });

  it('reads query values as the types the document gives them', () => {
    expect(() => checkAcceptedRequest({ method: 'GET', path: '/v1/credits/transactions?limit=50' })).not.toThrow();
    expect(() => checkAcceptedRequest({ method: 'GET', path: '/v1/credits/transactions?limit=500' })).toThrow(/limit/);
    expect(() => checkAcceptedRequest({ method: 'GET', path: '/v1/credits/transactions?limit=abc' })).toThrow(/limit/);
  });
});
