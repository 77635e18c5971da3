import { auditing, authenticating } from '#db/access';
import { listQuery } from '#domain/accounts/schemas';
import { allow } from '#domain/auth/principal';
import { copyCampaignBody, createCampaignBody, patchCampaignBody } from '#domain/campaigns/schemas';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';

/** Account-scoped (switching and assist reach a sub-account's); the feature is checked on the account in scope. */
const inAccount = {
  fn: 'campaigns',
  allow: allow.accountMembers,
  scope: { param: 'accountId', kind: 'account' },
  feature: 'campaigns',
} as const;

export const campaignRoutes = [
  {
    ...inAccount,
    method: 'POST',
    path: '/v1/accounts/{accountId}/campaigns',
    summary: 'Create a campaign; 201 {campaign}. A closed account → 409',
    body: createCampaignBody,
    status: 201,
    response: res.CampaignResponse,
    refusals: ['account_closed'],
  },
  {
    ...inAccount,
    method: 'GET',
    path: '/v1/accounts/{accountId}/campaigns',
    summary: "List the account's campaigns, oldest first",
    query: listQuery,
    status: 200,
    response: res.CampaignList,
  },
  {
    ...inAccount,
    method: 'GET',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}',
    summary: 'Get a campaign; 200 {campaign}',
    status: 200,
    response: res.CampaignResponse,
  },
  {
    ...inAccount,
    method: 'PATCH',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}',
    summary: 'Update a campaign; each field given replaces the stored one whole. 200 {campaign}',
    body: patchCampaignBody,
    status: 200,
    response: res.CampaignResponse,
    refusals: ['account_closed', 'conflict'],
  },
  {
    ...inAccount,
    method: 'DELETE',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}',
    summary: 'Delete a campaign',
    status: 204,
    refusals: ['account_closed'],
  },
  {
    ...inAccount,
    method: 'POST',
    path: '/v1/accounts/{accountId}/campaigns/{campaignId}/copy',
    summary:
      'Copy a campaign to the agency or its sub-accounts, all or none. {targetAccountId} → 201 {campaign}; {targetAccountIds:[…1–25]} → 201 {campaigns} in request order. A target not reachable → 404, closed → 409, without the campaigns feature → 403; then nothing is written. A sub-account may only copy to itself',
    body: copyCampaignBody,
    status: 201,
    response: res.CampaignCopied,
    refusals: ['account_closed', 'conflict'],
  },
] as const satisfies readonly RouteDef[];

/** The campaigns function (functions/http/campaigns.ts). */
export const campaignsFunction = {
  name: 'campaigns',
  description: "An account's campaigns, and copying them between accounts",
  needs: standardNeeds,
  // Campaigns live in their account's partition.
  tableKeys: [...authenticating, auditing],
  routes: campaignRoutes,
} as const satisfies HttpFunctionManifest<'campaigns'>;
