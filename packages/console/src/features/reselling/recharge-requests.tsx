import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../../api/client';
import { Table, useCursorPages } from '../../lists';
import { useSwitcherAccounts } from '../../queries';
import { credits, Dialog, Loaded } from '../../ui';
import { GrantCredits } from './grant-credits';
import { resellingKeys } from './queries';

const PAGE = 20;
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : '');

/** Recharge requests, newest first, paged by the API's cursor: what was asked of the agency's payment server; an open one can be granted by hand. */
export function RechargeRequests() {
  const pages = useCursorPages();
  const { cursor } = pages;
  const list = useQuery({
    queryKey: resellingKeys.rechargeRequestPage(cursor),
    queryFn: () =>
      call(api.GET('/v1/reselling/recharge-requests', { params: { query: { limit: PAGE, ...(cursor ? { cursor } : {}) } } })),
    placeholderData: (prev) => prev,
  });
  const { accounts } = useSwitcherAccounts();
  const nameOf = (id: string) => accounts.find((a) => a.id === id)?.name ?? id;
  const [granting, setGranting] = useState<{ id: string; subAccountId: string; creditsRequested: number }>();
  return (
    <Loaded query={list} label="recharge requests">
      {(l) => (
        <>
          <Table
            caption="Recharge requests"
            columns={[
              'Opened',
              'Sub-account',
              'Status',
              'Balance then',
              'Threshold',
              'Credits asked',
              'Fulfilled or expires',
              'Actions',
            ]}
            items={l.items}
            empty="No recharge requests yet."
            row={(r) => (
              <tr key={r.id}>
                <td>{when(r.createdAt)}</td>
                <th scope="row">{nameOf(r.subAccountId)}</th>
                <td>{r.status}</td>
                <td>{credits(r.balanceAtTrigger)}</td>
                <td>{credits(r.threshold)}</td>
                <td>{credits(r.creditsRequested)}</td>
                <td>{r.fulfilledAt ? `fulfilled ${when(r.fulfilledAt)}` : `expires ${when(r.expiresAt)}`}</td>
                <td>
                  {r.status === 'open' && (
                    <button
                      type="button"
                      aria-label={`Grant ${credits(r.creditsRequested)} credits to ${nameOf(r.subAccountId)}`}
                      onClick={() => setGranting(r)}
                    >
                      Grant
                    </button>
                  )}
                </td>
              </tr>
            )}
          />
          <div className="actions">
            <button type="button" onClick={() => void list.refetch()}>
              Refresh requests
            </button>
            {!pages.isFirst && (
              <button type="button" onClick={pages.previous}>
                Newer requests
              </button>
            )}
            {l.nextCursor && (
              <button type="button" onClick={() => pages.next(l.nextCursor ?? '')}>
                Older requests
              </button>
            )}
          </div>
          <Dialog title="Grant credits" open={!!granting} onClose={() => setGranting(undefined)}>
            {granting && (
              <GrantCredits
                subAccountId={granting.subAccountId}
                name={nameOf(granting.subAccountId)}
                credits={granting.creditsRequested}
                requestId={granting.id}
                onDone={() => setGranting(undefined)}
              />
            )}
          </Dialog>
        </>
      )}
    </Loaded>
  );
}
