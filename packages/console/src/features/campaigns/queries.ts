import { queryOptions } from '@tanstack/react-query';
import { api, call } from '../../api/client';

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
