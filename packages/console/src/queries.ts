import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { api, call } from './api/client';
import { useSession } from './session';

/** GET /v1/me, paged like every list: the principal, and the account switcher page by page. */
export function useMe() {
  return useInfiniteQuery({
    queryKey: ['me'],
    queryFn: ({ pageParam }) => call(api.GET('/v1/me', { params: { query: pageParam ? { cursor: pageParam } : {} } })),
    initialPageParam: '',
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

/**
 * Who is acting: from /v1/me once loaded, before that from the sign-in answer (so the first
 * screen's own queries start at once). While assisting, the sub-account acted as.
 */
export function usePrincipal() {
  const me = useMe();
  const { session } = useSession();
  const early = session?.assist
    ? { accountId: session.assist.subAccountId, accountType: 'sub_account' as const }
    : session?.principal;
  return { me, principal: me.data?.pages[0]?.principal ?? early };
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
