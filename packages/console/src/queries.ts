import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, call } from './api/client';

/** GET /v1/me, paged like every list: the principal, and the account switcher page by page. */
export function useMe() {
  return useInfiniteQuery({
    queryKey: ['me'],
    queryFn: ({ pageParam }) => call(api.GET('/v1/me', { params: { query: pageParam ? { cursor: pageParam } : {} } })),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/** The principal from the first page of /v1/me (undefined while loading). */
export function usePrincipal() {
  const me = useMe();
  return { me, principal: me.data?.pages[0]?.principal };
}

/** Every sub-account loaded so far in the switcher (for pickers: copy targets, filters). */
export function useSwitcherAccounts() {
  const { me } = usePrincipal();
  return { me, accounts: me.data?.pages.flatMap((p) => p.accounts) ?? [] };
}

export function useAccountUsage(accountId: string) {
  return useQuery({
    queryKey: ['usage', accountId],
    queryFn: () => call(api.GET('/v1/accounts/{accountId}/usage', { params: { path: { accountId } } })),
  });
}
