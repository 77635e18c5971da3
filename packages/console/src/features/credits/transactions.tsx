import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Schemas } from '../../api/client';
import type { paths } from '../../api/schema';
import { fieldErrors } from '../../api/words';
import { CsvDownload, Pager, Table, useCursorPages } from '../../lists';
import { searchedInPart } from '../../paging';
import { useSwitcherAccounts } from '../../queries';
import { credits, Field, Loaded } from '../../ui';
import { creditKeys } from './queries';

type Query = Omit<NonNullable<paths['/v1/credits/transactions']['get']['parameters']['query']>, 'limit' | 'cursor'>;
type Entry = Schemas['LedgerEntry'];
const PAGE = 50;
const types: Entry['type'][] = ['top_up', 'grant', 'ai_response', 'campaign_message', 'purchase', 'refund', 'dispute'];

/** The credit transaction history: filters, pages by the API's cursor, Export CSV of the same filters. */
export function Transactions() {
  const { accounts } = useSwitcherAccounts();
  const subs = accounts.filter((a) => a.type === 'sub_account');
  const [filters, setFilters] = useState<Query>({});
  const pages = useCursorPages();
  const { cursor } = pages;
  const list = useQuery({
    queryKey: creditKeys.transactionPage(filters, cursor),
    // JSON here (the route also answers text/csv, hence the union in its type).
    queryFn: async () =>
      (await call(
        api.GET('/v1/credits/transactions', { params: { query: { ...filters, limit: PAGE, ...(cursor ? { cursor } : {}) } } }),
      )) as Schemas['TransactionList'],
    placeholderData: (prev) => prev,
  });
  const errors = fieldErrors(list.error);
  const nameOf = (id: string | null) => (id ? (accounts.find((a) => a.id === id)?.name ?? id) : '');
  return (
    <>
      <h1>Transactions</h1>
      <form
        className="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const pick = (n: string) => String(f.get(n) ?? '').trim() || undefined;
          setFilters({
            subAccountId: pick('subAccountId'),
            campaignId: pick('campaignId'),
            contactId: pick('contactId'),
            type: pick('type') as Entry['type'] | undefined,
            from: pick('from'),
            to: pick('to'),
          });
          pages.reset();
        }}
      >
        <div className="field">
          <label htmlFor="f-sub">Sub-account</label>
          <select id="f-sub" name="subAccountId" defaultValue="">
            <option value="">All</option>
            {subs.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="f-type">Type</label>
          <select id="f-type" name="type" defaultValue="">
            <option value="">All</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {t.replace('_', ' ')}
              </option>
            ))}
          </select>
        </div>
        <Field label="Campaign" name="campaignId" error={errors.campaignId} />
        <Field label="Contact" name="contactId" error={errors.contactId} />
        <Field label="From" name="from" type="date" error={errors.from} />
        <Field label="To" name="to" type="date" error={errors.to} />
        <button type="submit">Apply filters</button>
      </form>
      <CsvDownload
        label="Export CSV"
        filename="transactions"
        fetchPart={(cursor) =>
          api.GET('/v1/credits/transactions', {
            params: { query: { ...filters, ...(cursor ? { cursor } : {}) } },
            headers: { accept: 'text/csv' },
            parseAs: 'text',
          })
        }
      />
      <Loaded query={list} label="transactions">
        {(l) => (
          <>
            {searchedInPart(l.items.length, PAGE, l.nextCursor) && (
              <p role="status">
                {l.items.length === 0 ? 'None found' : `${l.items.length} found`} in this part of the history: a campaign or
                contact across all sub-accounts is searched a part at a time. Next page searches further; choosing a sub-account
                gives full pages.
              </p>
            )}
            <Table
              caption="Credit transactions, newest first"
              columns={['When', 'Type', 'Credits', 'Balance after', 'Sub-account', 'Contact', 'Campaign', 'Reference']}
              items={l.items}
              empty={searchedInPart(0, PAGE, l.nextCursor) ? 'None in this part of the history.' : 'No transactions match.'}
              row={(t) => (
                <tr key={t.id}>
                  <td>{t.createdAt.replace('T', ' ').slice(0, 19)}</td>
                  <td>{t.type.replace('_', ' ')}</td>
                  <td>{t.credits > 0 ? `+${credits(t.credits)}` : credits(t.credits)}</td>
                  <td>
                    {t.balanceAfter === null ? (
                      <abbr title="The balance was busy: no single running balance to show. The balance itself is exact.">—</abbr>
                    ) : (
                      credits(t.balanceAfter)
                    )}{' '}
                    ({t.balanceType})
                  </td>
                  <td>{nameOf(t.subAccountId)}</td>
                  <td>{t.contactId}</td>
                  <td>{t.campaignId}</td>
                  <td>{t.reference}</td>
                </tr>
              )}
            />
            <Pager label="Transaction pages" pages={pages} nextCursor={l.nextCursor} />
          </>
        )}
      </Loaded>
    </>
  );
}
