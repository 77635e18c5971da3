import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormError, Section } from '../../ui';
import { resellingKeys } from './queries';

interface PackageRow {
  key: number;
  name: string;
  credits: string;
  price: string;
}

/** Pricing: the currency, the price per credit (the platform's minimum shown) and up to 20 packages. */
export function PricingForm({ settings }: { settings: Schemas['ResellingSettings'] }) {
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
    onSuccess: () => qc.invalidateQueries({ queryKey: resellingKeys.settings }),
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
