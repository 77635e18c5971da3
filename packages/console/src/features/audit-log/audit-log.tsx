import { useQuery } from '@tanstack/react-query';
import { useSearchParams } from 'react-router';
import { ApiError, api, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { CsvDownload, Pager, Table, useCursorPages } from '../../lists';
import { useSwitcherAccounts } from '../../queries';
import { Field, Loaded } from '../../ui';
import { type AuditFilters, auditFilterNames, auditPageOptions } from './queries';

type AuditRecord = Schemas['AuditRecord'];

/**
 * The agency's audit log: who changed what, before → after. The filters live in the query
 * string (a filtered view can be bookmarked or shared); Download CSV exports the same filters.
 */
export function AuditLog() {
  const [params, setParams] = useSearchParams();
  const filters: AuditFilters = Object.fromEntries(auditFilterNames.flatMap((n) => (params.get(n) ? [[n, params.get(n)]] : [])));
  const search = auditFilterNames.map((n) => params.get(n) ?? '').join('\n');
  const first = useQuery(auditPageOptions(filters, ''));
  if (first.error instanceof ApiError && first.error.status === 403)
    return (
      <>
        <h1>Audit Log</h1>
        <p role="status">The audit log is for your agency's own users: sign in as one of them to read it.</p>
      </>
    );
  const errors = fieldErrors(first.error);
  return (
    <>
      <h1>Audit Log</h1>
      <p>Every change made in your agency, through the console or the API (credit movements are in Transactions).</p>
      <form
        key={search}
        className="filters"
        aria-label="Filters"
        onSubmit={(e) => {
          e.preventDefault();
          const f = new FormData(e.currentTarget);
          const set = auditFilterNames.map((n) => [n, String(f.get(n) ?? '').trim()] as [string, string]);
          setParams(set.filter(([, v]) => v));
        }}
      >
        <Field label="Actor" name="actor" defaultValue={filters.actor} hint="A user id or an API key id" error={errors.actor} />
        <Field label="Target" name="target" defaultValue={filters.target} hint="The id of what changed" error={errors.target} />
        <Field label="Action" name="action" defaultValue={filters.action} hint="e.g. sub_account.created" error={errors.action} />
        <Field label="From" name="from" type="date" defaultValue={filters.from} error={errors.from} />
        <Field label="To" name="to" type="date" defaultValue={filters.to} error={errors.to} />
        <button type="submit">Apply filters</button>
        <button type="button" onClick={() => setParams([])}>
          Clear filters
        </button>
      </form>
      <CsvDownload
        label="Download CSV"
        filename="audit-log"
        fetchPart={(cursor) =>
          api.GET('/v1/audit-log', {
            params: { query: { ...filters, ...(cursor ? { cursor } : {}) } },
            headers: { accept: 'text/csv' },
            parseAs: 'text',
          })
        }
      />
      {/* Other filters, other cursors: the pages start again at the first. */}
      <Records key={search} filters={filters} />
    </>
  );
}

function Records({ filters }: { filters: AuditFilters }) {
  const pages = useCursorPages();
  const list = useQuery({ ...auditPageOptions(filters, pages.cursor), placeholderData: (prev) => prev });
  const { me, accounts } = useSwitcherAccounts();
  const you = me.data?.pages[0]?.principal.userId;
  const user = (id: string | undefined) => (id && id === you ? 'you' : `user ${id ?? ''}`);
  const account = (id: string | undefined) => accounts.find((a) => a.id === id)?.name ?? id ?? '';
  const actor = ({ type, userId, apiKeyId, assistedAccountId }: AuditRecord['actor']) =>
    type === 'user'
      ? user(userId)
      : type === 'api_key'
        ? `API key ${apiKeyId ?? ''}`
        : type === 'assist'
          ? `assist: ${user(userId)} as sub-account ${account(assistedAccountId)}`
          : 'platform';
  return (
    <Loaded query={list} label="the audit log">
      {(l) => (
        <>
          <Table
            caption="Audit records, newest first"
            columns={['When', 'Actor', 'Action', 'Target', 'Changes']}
            items={l.items}
            empty="No records match."
            row={(r) => (
              <tr key={r.id}>
                <td>{r.at.replace('T', ' ').slice(0, 19)}</td>
                <td>{actor(r.actor)}</td>
                <td>{r.action}</td>
                <td>
                  {r.target.type.replaceAll('_', ' ')} {r.target.type === 'sub_account' ? account(r.target.id) : r.target.id}
                </td>
                <td>
                  {r.changes.length > 0 && (
                    <ul className="changes">
                      {r.changes.map((c) => (
                        <li key={c.field}>
                          {c.field}: {shown(c.before)} → {shown(c.after)}
                        </li>
                      ))}
                    </ul>
                  )}
                </td>
              </tr>
            )}
          />
          <Pager label="Audit log pages" pages={pages} nextCursor={l.nextCursor} />
        </>
      )}
    </Loaded>
  );
}

/** A field's value as a person reads it: nothing set is a dash, text as is, the rest as JSON. */
const shown = (v: unknown) => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : JSON.stringify(v));
