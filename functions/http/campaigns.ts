import { table } from '#db/client';
import { createCampaign, deleteCampaign, getCampaign, listCampaigns, patchCampaign } from '#domain/campaigns/campaigns';
import { copyCampaign } from '#domain/campaigns/copy';
import { httpHandler } from '#http/handler';
import { json, noContent } from '#http/response';
import { campaignsFunction } from '#http/routes/campaigns';

table();

// Every route is scoped to {accountId}: `account` is the reachable account, feature checked.
export const handler = httpHandler(campaignsFunction.routes, {
  'POST /v1/accounts/{accountId}/campaigns': async ({ principal, account, body }) =>
    json(201, await createCampaign(principal, account, body)),
  'GET /v1/accounts/{accountId}/campaigns': async ({ account, query }) => json(200, await listCampaigns(account, query)),
  'GET /v1/accounts/{accountId}/campaigns/{campaignId}': async ({ account, params }) =>
    json(200, await getCampaign(account, params.campaignId)),
  'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}': async ({ principal, account, params, body }) =>
    json(200, await patchCampaign(principal, account, params.campaignId, body)),
  'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}': async ({ account, params }) => {
    await deleteCampaign(account, params.campaignId);
    return noContent();
  },
  'POST /v1/accounts/{accountId}/campaigns/{campaignId}/copy': async ({ principal, account, params, body }) =>
    json(201, await copyCampaign(principal, account, params.campaignId, body)),
});
