import { table } from '#db/client';
import { tableAnswers } from '#db/read';
import { signUpAgency } from '#domain/accounts/agencies';
import { verifyEmail } from '#domain/accounts/email-verification';
import { logIn } from '#domain/auth/login';
import { confirmPasswordReset, requestPasswordReset } from '#domain/auth/password-reset';
import { httpHandler } from '#http/handler';
import { json, noContent } from '#http/response';
import { publicFunction } from '#http/routes/public';

table(); // fail the cold start, not a request, when TABLE_NAME is missing

export const handler = httpHandler(publicFunction.routes, {
  'GET /v1/health': async () => json(200, { status: 'ok' }),
  'GET /v1/health/ready': async () => {
    await tableAnswers();
    return json(200, { status: 'ready' }, { 'cache-control': 'no-store' });
  },
  'POST /v1/agencies': async ({ body }) => json(201, await signUpAgency(body)),
  'POST /v1/auth/login': async ({ body }) => json(200, await logIn(body)),
  'POST /v1/auth/verify-email': async ({ body }) => {
    await verifyEmail(body.token);
    return noContent();
  },
  'POST /v1/auth/password-reset': async ({ body }) => {
    await requestPasswordReset(body);
    return json(202, { status: 'accepted' });
  },
  'POST /v1/auth/password-reset/confirm': async ({ body }) => {
    await confirmPasswordReset(body);
    return noContent();
  },
});
