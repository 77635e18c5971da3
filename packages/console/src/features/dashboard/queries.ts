import { useQuery } from '@tanstack/react-query';
import { api, call } from '../../api/client';
import { thisMonth } from '../../queries';

type Range = { from: string; to: string };

/** One account's own numbers (GET /v1/accounts/{id}/…): what its home page shows. */
export const accountKeys = {
  usage: (accountId: string, range: Range) => ['usage', accountId, range.from, range.to] as const,
  /** Every account's wallet: a grant or a purchase may change any of them. */
  wallets: ['wallet'] as const,
  wallet: (accountId: string) => [...accountKeys.wallets, accountId] as const,
  offers: (accountId: string) => ['offers', accountId] as const,
  purchases: (accountId: string) => ['purchases', accountId] as const,
};

/** The agency's own numbers (GET /v1/credits/balance and /usage): its dashboard. */
export const agencyKeys = {
  balance: ['balance'] as const,
  usage: (range: Range) => ['agency-usage', range.from, range.to] as const,
};

export function useAccountUsage(accountId: string) {
  const range = thisMonth();
  return useQuery({
    queryKey: accountKeys.usage(accountId, range),
    queryFn: () => call(api.GET('/v1/accounts/{accountId}/usage', { params: { path: { accountId }, query: range } })),
  });
}
