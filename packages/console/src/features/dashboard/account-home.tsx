import { useMutation, useQuery } from '@tanstack/react-query';
import { useMemo, useRef, useState } from 'react';
import { useParams } from 'react-router';
import { ApiError, api, call, newIdempotencyKey, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { TrendChart } from '../../chart';
import { Table } from '../../lists';
import { usePrincipal, useSwitcherAccounts } from '../../queries';
import { credits, day, Field, FormError, Loaded, money, RunwayLine, Section } from '../../ui';
import { CampaignList } from '../campaigns/campaigns';
import { accountKeys, useAccountUsage } from './queries';

/**
 * One account's own dashboard: what its client sees, and what the agency sees after switching
 * to it. Usage and campaigns; in reselling mode its wallet and Buy credits. Never the agency's
 * pool balance, never the other sub-accounts.
 */
export function AccountHome() {
  const { principal } = usePrincipal();
  const { accounts } = useSwitcherAccounts();
  const { accountId: param } = useParams();
  const accountId = param ?? principal?.accountId ?? '';
  const name = accounts.find((a) => a.id === accountId)?.name ?? 'Account';
  const usage = useAccountUsage(accountId);
  return (
    <>
      <h1>{name}</h1>
      <Section title="Usage this month">
        <Loaded query={usage} label="usage">
          {(u) => <UsageView usage={u} />}
        </Loaded>
      </Section>
      <Wallet accountId={accountId} />
      <Section title="Campaigns">
        <CampaignList accountId={accountId} />
      </Section>
    </>
  );
}

function UsageView({ usage }: { usage: Schemas['AccountUsage'] }) {
  const dates = useMemo(() => usage.series.map((s) => s.date), [usage]);
  const series = useMemo(() => [{ label: 'Credits used', values: usage.series.map((s) => s.credits) }], [usage]);
  return (
    <>
      <p className="big" data-testid="account-usage-total">
        {credits(usage.total)} credits used
      </p>
      <p>
        AI responses: {credits(usage.byType.ai_response)} · campaign messages: {credits(usage.byType.campaign_message)}
      </p>
      <TrendChart title="Credits used per day" dates={dates} series={series} />
    </>
  );
}

/** The wallet exists in reselling mode only: a 404 means manual mode, and the section is simply absent. */
function Wallet({ accountId }: { accountId: string }) {
  const wallet = useQuery({
    queryKey: accountKeys.wallet(accountId),
    queryFn: async () => {
      try {
        return await call(api.GET('/v1/accounts/{accountId}/wallet', { params: { path: { accountId } } }));
      } catch (err) {
        if (err instanceof ApiError && err.status === 404) return null;
        throw err;
      }
    },
  });
  if (wallet.data === null) return null;
  return (
    <Section title="Wallet">
      <Loaded query={wallet} label="the wallet">
        {(w) =>
          w && (
            <>
              <p className="big" data-testid="wallet-balance">
                {credits(w.balance)} credits available
              </p>
              <RunwayLine runway={w.runway} testId="wallet-runway" />
              <p>
                Bought {credits(w.purchased)} · used {credits(w.consumed)}
              </p>
              <BuyCredits accountId={accountId} />
              <Purchases accountId={accountId} />
            </>
          )
        }
      </Loaded>
    </Section>
  );
}

function BuyCredits({ accountId }: { accountId: string }) {
  const offers = useQuery({
    queryKey: accountKeys.offers(accountId),
    queryFn: () => call(api.GET('/v1/accounts/{accountId}/credit-offers', { params: { path: { accountId } } })),
  });
  // One key per attempt: a retry after a lost answer reuses it (the same purchase), a changed choice gets a new one.
  const key = useRef(newIdempotencyKey());
  const [choice, setChoice] = useState<string>('');
  const buy = useMutation({
    mutationFn: (body: Schemas['PurchaseRequest']) =>
      call(
        api.POST('/v1/accounts/{accountId}/credit-purchases', {
          params: { path: { accountId }, header: { 'Idempotency-Key': key.current } },
          body,
        }),
      ),
    onSuccess: (r) => window.location.assign(r.checkoutUrl),
  });
  const errors = fieldErrors(buy.error);
  if (offers.isError) return <FormError error={offers.error} />;
  if (!offers.data) return null;
  const o = offers.data;
  return (
    <form
      aria-labelledby="buy-h"
      onSubmit={(e) => {
        e.preventDefault();
        if (buy.isPending || buy.isSuccess) return;
        const form = new FormData(e.currentTarget);
        const pkg = String(form.get('package') ?? '');
        buy.mutate(pkg && pkg !== 'custom' ? { packageId: pkg } : { credits: Number(form.get('credits')) });
      }}
      onChange={(e) => {
        const t = e.target;
        if (t instanceof HTMLInputElement && t.name === 'package') setChoice(t.value);
        key.current = newIdempotencyKey();
      }}
    >
      <h3 id="buy-h">Buy credits</h3>
      <FormError error={buy.error} />
      <fieldset>
        <legend>Choose a package</legend>
        {o.packages.map((p) => (
          <label key={p.id} className="choice">
            <input type="radio" name="package" value={p.id} required />
            {p.name}: {credits(p.credits)} credits for {money(p.price, o.currency)}
          </label>
        ))}
        <label className="choice">
          <input type="radio" name="package" value="custom" required />
          Another amount ({o.perCreditPrice} {o.currency.toUpperCase()} cents per credit)
        </label>
      </fieldset>
      {choice === 'custom' && (
        <Field
          label="Credits"
          name="credits"
          type="number"
          min={o.minimumCredits}
          required
          hint={`From ${credits(o.minimumCredits)} to ${credits(o.maximumCredits)} credits.`}
          error={errors.credits}
        />
      )}
      <button type="submit" disabled={buy.isPending || buy.isSuccess}>
        {buy.isPending || buy.isSuccess ? 'Opening checkout…' : 'Buy credits'}
      </button>
    </form>
  );
}

function Purchases({ accountId }: { accountId: string }) {
  const list = useQuery({
    queryKey: accountKeys.purchases(accountId),
    queryFn: () => call(api.GET('/v1/accounts/{accountId}/credit-purchases', { params: { path: { accountId } } })),
  });
  return (
    <Loaded query={list} label="purchases">
      {(l) =>
        l.items.length > 0 && (
          <Table
            caption="Purchases"
            columns={['Date', 'Credits', 'Amount', 'Status']}
            items={l.items}
            row={(p) => (
              <tr key={p.id}>
                <td>{day(p.createdAt)}</td>
                <td>{credits(p.credits)}</td>
                <td>{money(p.amount, p.currency)}</td>
                <td>{p.status}</td>
              </tr>
            )}
          />
        )
      }
    </Loaded>
  );
}
