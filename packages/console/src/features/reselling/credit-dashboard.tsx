import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { TrendChart } from '../../chart';
import { Table, useCursorPages } from '../../lists';
import { credits, Loaded, money, Section } from '../../ui';
import { resellingKeys } from './queries';

/** The seed's "Sub-Account Credit Dashboard": every reselling sub-account's purchases, use and remaining credits. */
export function CreditDashboard() {
  const pages = useCursorPages();
  const { cursor } = pages;
  const dash = useQuery({
    queryKey: resellingKeys.dashboard(cursor),
    queryFn: () => call(api.GET('/v1/reselling/dashboard', { params: { query: cursor ? { cursor } : {} } })),
  });
  return (
    <Section title="Sub-Account Credit Dashboard">
      <Loaded query={dash} label="the credit dashboard">
        {(d) => (
          <>
            <DashboardTrend dashboard={d} />
            <Table
              caption={`Reselling sub-accounts, ${d.from} to ${d.to}`}
              columns={['Sub-account', 'Credits purchased', 'Total spend', 'Credits consumed', 'Remaining']}
              items={d.items}
              empty="No sub-account is in reselling mode yet (Edit Sub Account → Reselling)."
              row={(i) => (
                <tr key={i.subAccountId}>
                  <th scope="row">{i.name}</th>
                  <td>{credits(i.purchasedCredits)}</td>
                  <td>
                    {i.spend.length
                      ? i.spend.map((s) => money(s.amount, s.currency)).join(', ')
                      : money(i.totalSpend, d.currency)}
                  </td>
                  <td>{credits(i.consumedCredits)}</td>
                  <td>{credits(i.remaining)}</td>
                </tr>
              )}
            />
            {d.nextCursor && (
              <button type="button" onClick={() => pages.next(d.nextCursor as string)}>
                Next page
              </button>
            )}
          </>
        )}
      </Loaded>
    </Section>
  );
}

function DashboardTrend({ dashboard }: { dashboard: Schemas['ResellingDashboard'] }) {
  const { dates, series } = useMemo(() => {
    const byDate = new Map<string, { purchased: number; consumed: number }>();
    for (const item of dashboard.items)
      for (const s of item.series) {
        const d = byDate.get(s.date) ?? { purchased: 0, consumed: 0 };
        d.purchased += s.purchased;
        d.consumed += s.consumed;
        byDate.set(s.date, d);
      }
    const dates = [...byDate.keys()].sort();
    return {
      dates,
      series: [
        { label: 'Purchased', values: dates.map((d) => byDate.get(d)?.purchased ?? 0) },
        { label: 'Consumed', values: dates.map((d) => byDate.get(d)?.consumed ?? 0) },
      ],
    };
  }, [dashboard]);
  return <TrendChart title="Reselling credits per day" dates={dates} series={series} />;
}
