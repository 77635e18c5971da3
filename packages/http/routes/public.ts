import { auditing } from '#db/access';
import { keyPrefixes } from '#db/schema';
import { loginBody, passwordResetBody, passwordResetConfirmBody, signupBody, verifyEmailBody } from '#domain/accounts/schemas';
import { allow } from '#domain/auth/principal';
import * as res from '../responses';
import type { HttpFunctionManifest, RouteDef } from '../route-def';

/** Open to anyone: liveness, sign-up, email verification, login, password reset. */
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
    summary:
      'Log in with email and password; a wrong email or password is the same 401; the 11th attempt for an email within 15 minutes is a 429',
    allow: allow.anyone,
    body: loginBody,
    status: 200,
    response: res.LoginResponse,
    refusals: ['unauthenticated', 'too_many_attempts'],
  },
  {
    method: 'POST',
    path: '/v1/auth/verify-email',
    fn: 'public',
    summary: "Confirm the agency's email with the token from the verification link (single use, 24 h)",
    allow: allow.anyone,
    body: verifyEmailBody,
    status: 204,
  },
  {
    method: 'POST',
    path: '/v1/auth/password-reset',
    fn: 'public',
    summary: 'Ask for a password reset link by email; 202 whether or not the email is known (throttled per email)',
    allow: allow.anyone,
    body: passwordResetBody,
    status: 202,
    response: res.Accepted,
    refusals: ['too_many_attempts'],
  },
  {
    method: 'POST',
    path: '/v1/auth/password-reset/confirm',
    fn: 'public',
    summary: "Set a new password with the reset link's token (single use, 1 h); every session of the user ends",
    allow: allow.anyone,
    body: passwordResetConfirmBody,
    status: 204,
  },
] as const satisfies readonly RouteDef[];

/** The public function (functions/http/public.ts). */
export const publicFunction = {
  name: 'public',
  description: 'Open to anyone: liveness, agency sign-up and login',
  // Sign-up and login issue tokens; sign-up and password reset seal the emailed link's token; no route authenticates.
  needs: ['table', 'tokenSecret', 'sealEncrypt'],
  // Sign-up writes the agency, its user, the email guard and the verification token and email;
  // login reads them and counts attempts; verification and password reset spend one-time
  // tokens; readiness reads one fixed key. Nothing authenticates. Each of those writes its audit record.
  tableKeys: [
    keyPrefixes.account,
    keyPrefixes.user,
    keyPrefixes.email,
    keyPrefixes.oneTimeToken,
    keyPrefixes.outbox,
    keyPrefixes.throttle,
    keyPrefixes.readiness,
    auditing,
  ],
  routes: publicRoutes,
} as const satisfies HttpFunctionManifest<'public'>;
