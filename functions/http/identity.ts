import { table } from '#db/client';
import { resendVerification } from '#domain/accounts/email-verification';
import { auditCsv, listAuditLog } from '#domain/audit/log';
import { createApiKey, listApiKeys, revokeApiKey } from '#domain/auth/api-key-service';
import { exitAssist, startAssist } from '#domain/auth/assist';
import { changePassword, describeMe, logOut } from '#domain/auth/sessions';
import { httpHandler } from '#http/handler';
import { json, noContent, text } from '#http/response';
import { identityFunction } from '#http/routes/identity';

table();

export const handler = httpHandler(identityFunction.routes, {
  'GET /v1/me': async ({ principal, ownAccount, agency, query }) =>
    json(200, await describeMe(principal, ownAccount, agency, query)),
  'POST /v1/auth/password': async ({ principal, body }) => json(200, await changePassword(principal, body)),
  'POST /v1/auth/logout': async ({ principal }) => {
    await logOut(principal);
    return noContent();
  },
  'POST /v1/auth/verify-email/resend': async ({ principal }) => {
    await resendVerification(principal);
    return json(202, { status: 'accepted' });
  },
  'POST /v1/api-keys': async ({ principal, body }) => json(201, await createApiKey(principal.agencyId, principal.userId, body)),
  'GET /v1/api-keys': async ({ principal, query }) => json(200, await listApiKeys(principal.agencyId, query)),
  'DELETE /v1/api-keys/{apiKeyId}': async ({ principal, params }) => {
    await revokeApiKey(principal.agencyId, params.apiKeyId);
    return noContent();
  },
  'GET /v1/audit-log': async ({ principal, query, headers }) => {
    const page = await listAuditLog(principal.agencyId, query);
    if (!/\btext\/csv\b/i.test(headers.accept ?? '')) return json(200, page);
    return text(200, auditCsv(page.items), 'text/csv; charset=utf-8', {
      'content-disposition': 'attachment; filename="audit-log.csv"',
      ...(page.nextCursor ? { 'x-next-cursor': page.nextCursor } : {}),
    });
  },
  'POST /v1/sub-accounts/{subAccountId}/assist': async ({ principal, account }) =>
    json(201, await startAssist(principal, account)),
  'POST /v1/assist/exit': async ({ principal }) => {
    await exitAssist(principal);
    return noContent();
  },
});
