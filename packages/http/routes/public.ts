import { loginBody, signupBody } from '../../domain/accounts/schemas';
import { allow } from '../../domain/auth/principal';
import * as res from '../responses';
import type { RouteDef } from '../route-def';

/** Open to anyone: liveness, sign-up, login. */
export const publicRoutes = [
  {
    method: 'GET',
    path: '/v1/health',
    fn: 'public',
    summary: 'Liveness check',
    allow: allow.anyone,
    status: 200,
    response: res.Health,
  },
  {
    method: 'GET',
    path: '/v1/health/ready',
    fn: 'public',
    summary: 'Readiness: 200 when the table answers, else 503 (no details)',
    allow: allow.anyone,
    status: 200,
    response: res.Ready,
  },
  {
    method: 'POST',
    path: '/v1/agencies',
    fn: 'public',
    summary:
      "Sign up an agency and its first user; every agency starts on the starter plan (a plan field → 400: plans are the platform's to set)",
    allow: allow.anyone,
    body: signupBody,
    status: 201,
    response: res.SignupResponse,
    refusals: ['email_taken'],
  },
  {
    method: 'POST',
    path: '/v1/auth/login',
    fn: 'public',
    summary: 'Log in with email and password; a wrong email or password is the same 401',
    allow: allow.anyone,
    body: loginBody,
    status: 200,
    response: res.LoginResponse,
    refusals: ['unauthenticated'],
  },
] as const satisfies readonly RouteDef[];
