import { useMutation, useQuery } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { ApiError, api, call, newIdempotencyKey, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { credits, Field, FormError, money } from '../../ui';
import { creditKeys } from './queries';

/**
 * The agency buys pool credits from the platform: POST /v1/credits/purchases → Stripe Checkout,
 * one of the platform's packages (GET /v1/credits/packages) or any amount at its per-credit price.
 * One Idempotency-Key per attempt: a retry after a lost answer or a 5xx reuses it (the same
 * purchase); a changed amount or a refusal gets a new one.
 */
export function BuyPoolCredits() {
  const key = useRef(newIdempotencyKey());
  const [choice, setChoice] = useState('custom');
  const offers = useQuery({ queryKey: creditKeys.packages, queryFn: () => call(api.GET('/v1/credits/packages')) });
  const buy = useMutation({
    mutationFn: (body: Schemas['PurchaseRequest']) =>
      call(api.POST('/v1/credits/purchases', { params: { header: { 'Idempotency-Key': key.current } }, body })),
    onSuccess: (r) => window.location.assign(r.checkoutUrl),
    onError: (err) => {
      if (err instanceof ApiError && !err.retryable) key.current = newIdempotencyKey();
    },
  });
  const errors = fieldErrors(buy.error);
  const busy = buy.isPending || buy.isSuccess;
  return (
    <form
      aria-labelledby="buy-pool-h"
      onSubmit={(e) => {
        e.preventDefault();
        if (busy) return;
        const form = new FormData(e.currentTarget);
        buy.mutate(choice === 'custom' ? { credits: Number(form.get('credits')) } : { packageId: choice });
      }}
      onChange={(e) => {
        const t = e.target;
        if (t instanceof HTMLInputElement && t.name === 'package') setChoice(t.value);
        key.current = newIdempotencyKey();
      }}
    >
      <h3 id="buy-pool-h">Buy pool credits</h3>
      <FormError error={buy.error} />
      {offers.data && offers.data.packages.length > 0 && <Packages offers={offers.data} />}
      {choice === 'custom' && (
        <Field
          label="Credits to buy"
          name="credits"
          type="number"
          min={1}
          required
          inputMode="numeric"
          hint="At the platform's price, paid through Stripe Checkout."
          error={errors.credits}
        />
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Opening checkout…' : 'Buy pool credits'}
      </button>
    </form>
  );
}

function Packages({ offers }: { offers: Schemas['CreditOffers'] }) {
  return (
    <fieldset>
      <legend>Choose a package</legend>
      {offers.packages.map((p) => (
        <label key={p.id} className="choice">
          <input type="radio" name="package" value={p.id} />
          {credits(p.credits)} credits for {money(p.price, offers.currency)}
        </label>
      ))}
      <label className="choice">
        <input type="radio" name="package" value="custom" defaultChecked />
        Another amount ({offers.perCreditPrice} {offers.currency.toUpperCase()} cents per credit)
      </label>
    </fieldset>
  );
}
