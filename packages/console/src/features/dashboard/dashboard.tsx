import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { Link } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { TrendChart } from '../../chart';
import { Table } from '../../lists';
import { thisMonth, usePrincipal } from '../../queries';
import { credits, Loaded, RunwayLine, Section } from '../../ui';
import { AlertLevels } from '../auto-top-up/alert-levels';
import { AutoTopUpSettings } from '../auto-top-up/auto-top-up';
import { BuyPoolCredits } from '../credits/buy-pool-credits';
import { AccountHome } from './account-home';
import { agencyKeys } from './queries';

/** `/`: the agency dashboard for an agency user; a client (or an assisting agency user) gets its own account's. */
export function Dashboard() {
  const { principal } = usePrincipal();
  if (principal?.accountType !== 'agency') return <AccountHome />;
  return <AgencyDashboard />;
}

function AgencyDashboard() {
  const balance = useQuery({ queryKey: agencyKeys.balance, queryFn: () => call(api.GET('/v1/credits/balance')) });
  // The whole month so far in one answer: the API ranks the sub-accounts and sends the top 50.
  const range = thisMonth();
  const usage = useQuery({
    queryKey: agencyKeys.usage(range),
    queryFn: () => call(api.GET('/v1/credits/usage', { params: { query: range } })),
  });
  return (
    <>
      <h1>Agency dashboard</h1>
      <Section title="Credit balance" className="stats">
        <Loaded query={balance} label="the balance">
          {(b) => (
            <>
              <p className="big" data-testid="pool-balance">
                {credits(b.balance)} credits
              </p>
              <RunwayLine runway={b.runway} testId="pool-runway" />
            </>
          )}
        </Loaded>
        <BuyPoolCredits />
        <AutoTopUpSettings />
        <AlertLevels />
      </Section>
      <Section title="Usage this month">
        <Loaded query={usage} label="usage">
          {(u) => <AgencyUsageView usage={u} />}
        </Loaded>
      </Section>
    </>
  );
}

type AgencyUsage = Schemas['AgencyUsage'];

function AgencyUsageView({ usage }: { usage: AgencyUsage }) {
  const series = useMemo(() => [{ label: 'Credits used', values: usage.series.map((s) => s.credits) }], [usage]);
  const dates = useMemo(() => usage.series.map((s) => s.date), [usage]);
  return (
    <>
      <p className="big" data-testid="usage-total">
        {credits(usage.total)} credits used
      </p>
      <p>
        {usage.from} to {usage.to}; the agency's own use: {credits(usage.agencyOwn)} credits.
      </p>
      <TrendChart title="Credits used per day" dates={dates} series={series} />
      <Table
        caption={
          usage.subAccountsWithUsage > usage.bySubAccount.length
            ? `Per sub-account: the ${usage.bySubAccount.length} that used the most of ${usage.subAccountsWithUsage}`
            : 'Per sub-account'
        }
        columns={['Sub-account', 'Credits used']}
        items={usage.bySubAccount}
        empty={
          <>
            No usage yet. <Link to="/sub-accounts">Add a sub-account</Link>.
          </>
        }
        row={(s) => (
          <tr key={s.subAccountId}>
            <td>
              <Link to={`/accounts/${s.subAccountId}`}>{s.name ?? s.subAccountId}</Link>
            </td>
            <td>{credits(s.credits)}</td>
          </tr>
        )}
      />
    </>
  );
}
