import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { TrendChart } from '../../chart';
import { Table, useCursorPages } from '../../lists';
import { credits, Field, FormError, Loaded, money, Section } from '../../ui';
import { RechargeWebhook } from '../webhooks/recharge-webhook';

/** Agency reselling settings: connect Stripe, pricing, the auto-recharge webhook, and the Sub-Account Credit Dashboard. */
export function Reselling() {
  const settings = useQuery({ queryKey: ['reselling-settings'], queryFn: () => call(api.GET('/v1/reselling/settings')) });
  return (
    <>
      <h1>Reselling</h1>
      <Loaded query={settings} label="reselling settings">
        {(s) => (
          <>
            <StripeSection stripe={s.stripe} />
            <PricingForm settings={s} />
            <RechargeWebhook />
            <CreditDashboard />
          </>
        )}
      </Loaded>
    </>
  );
}

function StripeSection({ stripe }: { stripe: Schemas['ResellingSettings']['stripe'] }) {
  const connect = useMutation({
    mutationFn: () => call(api.POST('/v1/reselling/stripe/connect')),
    // Stripe's onboarding (the sandbox locally) sends the browser back to /reselling/stripe/return.
    onSuccess: (r) => window.location.assign(r.onboardingUrl),
  });
  return (
    <Section title="Stripe">
      <p data-testid="stripe-status">
        {!stripe && 'Not connected. Connect a Stripe account to take payments from your sub-accounts.'}
        {stripe &&
          !stripe.chargesEnabled &&
          `Connected (${stripe.accountId}), but Stripe cannot take payments yet: finish onboarding.`}
        {stripe?.chargesEnabled && `Connected (${stripe.accountId}): ready to take payments.`}
      </p>
      <FormError error={connect.error} />
      {!stripe?.chargesEnabled && (
        <button
          type="button"
          onClick={() => connect.isPending || connect.mutate()}
          disabled={connect.isPending || connect.isSuccess}
        >
          {stripe ? 'Continue Stripe onboarding' : 'Connect Stripe'}
        </button>
      )}
    </Section>
  );
}

interface PackageRow {
  key: number;
  name: string;
  credits: string;
  price: string;
}

function PricingForm({ settings }: { settings: Schemas['ResellingSettings'] }) {
  const qc = useQueryClient();
  const { platform, pricing } = settings;
  const [currency, setCurrency] = useState(pricing?.currency ?? platform.currencies[0] ?? 'usd');
  const [rows, setRows] = useState<PackageRow[]>(
    (pricing?.packages ?? []).map((p, i) => ({
      key: i,
      name: p.name,
      credits: String(p.credits),
      price: (p.price / 100).toFixed(2),
    })),
  );
  const minimum = platform.minimumCreditPrice[currency];
  const save = useMutation({
    mutationFn: (form: FormData) =>
      call(
        api.PUT('/v1/reselling/pricing', {
          body: {
            currency,
            perCreditPrice: String(form.get('perCreditPrice') ?? '').trim(),
            packages: rows.map((r) => ({
              name: r.name.trim(),
              credits: Number(r.credits),
              price: Math.round(Number(r.price) * 100),
            })),
          },
        }),
      ),
    onSuccess: () => qc.invalidateQueries({ queryKey: ['reselling-settings'] }),
  });
  const errors = fieldErrors(save.error);
  const setRow = (key: number, patch: Partial<PackageRow>) =>
    setRows((rs) => rs.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <Section title="Pricing">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!save.isPending) save.mutate(new FormData(e.currentTarget));
        }}
      >
        <FormError error={save.error} />
        {save.isSuccess && <p role="status">Pricing saved.</p>}
        <div className="field">
          <label htmlFor="currency">Currency</label>
          <select id="currency" value={currency} onChange={(e) => setCurrency(e.target.value)}>
            {platform.currencies.map((c) => (
              <option key={c} value={c}>
                {c.toUpperCase()}
              </option>
            ))}
          </select>
        </div>
        <Field
          label={`Price per credit (${currency.toUpperCase()} cents)`}
          name="perCreditPrice"
          inputMode="decimal"
          required
          defaultValue={pricing?.perCreditPrice}
          hint={`Platform minimum: ${minimum ?? '—'} cents per credit. Up to 4 decimals.`}
          error={errors.perCreditPrice}
        />
        <fieldset>
          <legend>Pricing tiers (credit packages)</legend>
          {rows.map((r, i) => (
            <fieldset key={r.key} className="row">
              <legend className="visually-hidden">{`Package ${i + 1}`}</legend>
              <PackageInput
                label="Package name"
                value={r.name}
                onChange={(v) => setRow(r.key, { name: v })}
                error={errors[`packages.${i}.name`]}
              />
              <PackageInput
                label="Credits"
                value={r.credits}
                type="number"
                onChange={(v) => setRow(r.key, { credits: v })}
                error={errors[`packages.${i}.credits`]}
              />
              <PackageInput
                label={`Price (${currency.toUpperCase()})`}
                value={r.price}
                inputMode="decimal"
                onChange={(v) => setRow(r.key, { price: v })}
                error={errors[`packages.${i}.price`]}
              />
              <button
                type="button"
                onClick={() => setRows((rs) => rs.filter((x) => x.key !== r.key))}
                aria-label={`Remove package ${i + 1}`}
              >
                Remove
              </button>
            </fieldset>
          ))}
          <button
            type="button"
            onClick={() => setRows((rs) => [...rs, { key: Date.now(), name: '', credits: '', price: '' }])}
            disabled={rows.length >= 20}
          >
            Add package
          </button>
        </fieldset>
        <button type="submit" disabled={save.isPending}>
          Save pricing
        </button>
      </form>
    </Section>
  );
}

function PackageInput(props: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  error?: string;
  type?: string;
  inputMode?: 'decimal';
}) {
  return (
    <label className="inline">
      {props.label}
      <input
        value={props.value}
        type={props.type}
        inputMode={props.inputMode}
        required
        aria-invalid={props.error ? true : undefined}
        onChange={(e) => props.onChange(e.target.value)}
      />
      {props.error && <span className="field-error">{props.error}</span>}
    </label>
  );
}

/** The seed's "Sub-Account Credit Dashboard": every reselling sub-account's purchases, use and remaining credits. */
function CreditDashboard() {
  const pages = useCursorPages();
  const { cursor } = pages;
  const dash = useQuery({
    queryKey: ['reselling-dashboard', cursor],
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
