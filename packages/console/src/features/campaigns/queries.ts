import { type QueryClient, queryOptions } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';

/** Campaigns (GET /v1/accounts/{id}/campaigns[/{campaignId}]): each account's list, and one campaign. */
export const campaignKeys = {
  /** Every account's list: a copy lands in other accounts. */
  lists: ['campaigns'] as const,
  list: (accountId: string) => [...campaignKeys.lists, accountId] as const,
  one: (accountId: string, campaignId: string) => ['campaign', accountId, campaignId] as const,
};

/** One campaign: read by its page, written back by a save, dropped after a delete. */
export const campaignOptions = (accountId: string, campaignId: string) =>
  queryOptions({
    queryKey: campaignKeys.one(accountId, campaignId),
    queryFn: () =>
      call(api.GET('/v1/accounts/{accountId}/campaigns/{campaignId}', { params: { path: { accountId, campaignId } } })).then(
        (r) => r.campaign,
      ),
  });

/**
 * A saved campaign, written into its account's cached list as well as its own entry: the list a
 * person goes back to shows the new name at once, not the old one until its refetch answers.
 */
export function putSavedCampaign(qc: QueryClient, campaign: Schemas['Campaign']) {
  qc.setQueryData(campaignOptions(campaign.accountId, campaign.id).queryKey, campaign);
  qc.setQueryData(
    campaignKeys.list(campaign.accountId),
    (list: { items: Schemas['Campaign'][] } | undefined) =>
      list && { ...list, items: list.items.map((c) => (c.id === campaign.id ? campaign : c)) },
  );
  void qc.invalidateQueries({ queryKey: campaignKeys.list(campaign.accountId) });
}
