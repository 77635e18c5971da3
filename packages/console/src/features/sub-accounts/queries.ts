import { useQueryClient } from '@tanstack/react-query';
import { meKeys } from '../../queries';

/** The agency's sub-accounts (GET /v1/sub-accounts), page by page. */
export const subAccountKeys = {
  all: ['sub-accounts'] as const,
  page: (cursor: string) => [...subAccountKeys.all, cursor] as const,
};

/**
 * After a sub-account is added, closed or reopened: its list, and the switcher (GET /v1/me
 * lists every account), read again.
 */
export function useSubAccountsChanged(): () => void {
  const qc = useQueryClient();
  return () => {
    void qc.invalidateQueries({ queryKey: subAccountKeys.all });
    void qc.invalidateQueries({ queryKey: meKeys.all });
  };
}
