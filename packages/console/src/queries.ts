import { useInfiniteQuery } from '@tanstack/react-query';
import { api, call } from './api/client';
import { useSession } from './session';

/**
 * What every feature shares: who is signed in (GET /v1/me, whose accounts also fill the switcher)
 * and "this month". Each feature's own query keys and options are in its features/<name>/queries.ts.
 */
export const meKeys = {
  all: ['me'] as const,
};

/** GET /v1/me, paged like every list: the principal, and the account switcher page by page. */
export function useMe() {
  return useInfiniteQuery({
    queryKey: meKeys.all,
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

/** This UTC month so far: from its first day to today (the usage panels say "this month"). */
export function thisMonth(): { from: string; to: string } {
  const today = new Date().toISOString().slice(0, 10);
  return { from: `${today.slice(0, 7)}-01`, to: today };
}
