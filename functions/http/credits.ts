import { table } from '#db/client';
import { poolBalance, walletView } from '#domain/ledger/balances';
import { accountUsage, agencyUsage } from '#domain/ledger/dashboards';
import { csvNeedsFeature, exportTransactions, listTransactions, toCsv } from '#domain/ledger/history';
import { grantCredits, topUpAgency } from '#domain/ledger/top-ups';
import { httpHandler } from '#http/handler';
import { json, replayHeader, text } from '#http/response';
import { creditsFunction } from '#http/routes/credits';

table();

export const handler = httpHandler(creditsFunction.routes, {
  'POST /v1/admin/agencies/{agencyId}/credits': async ({ principal, account, body, idempotencyKey }) => {
    const out = await topUpAgency(principal, account, body, idempotencyKey);
    return json(201, out.body, replayHeader(out.replayed));
  },
  'POST /v1/sub-accounts/{subAccountId}/credits/grants': async ({ principal, account, body, idempotencyKey }) => {
    const out = await grantCredits(principal, account, body, idempotencyKey);
    return json(201, out.body, replayHeader(out.replayed));
  },
  'GET /v1/credits/balance': async ({ principal }) => json(200, await poolBalance(principal.agencyId)),
  'GET /v1/credits/transactions': async ({ principal, agency, query, headers }) => {
    if (!/\btext\/csv\b/i.test(headers.accept ?? '')) return json(200, await listTransactions(principal.agencyId, query));
    if (!agency.features.includes('usage_export')) throw csvNeedsFeature();
    const { rows, nextCursor } = await exportTransactions(principal.agencyId, query);
    return text(200, toCsv(rows), 'text/csv; charset=utf-8', {
      'content-disposition': 'attachment; filename="transactions.csv"',
      ...(nextCursor ? { 'x-next-cursor': nextCursor } : {}),
    });
  },
  'GET /v1/credits/usage': async ({ principal, query }) => json(200, await agencyUsage(principal.agencyId, query)),
  'GET /v1/accounts/{accountId}/usage': async ({ account, query }) => json(200, await accountUsage(account, query)),
  'GET /v1/accounts/{accountId}/wallet': async ({ account }) => json(200, await walletView(account)),
});
