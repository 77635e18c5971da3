import { useMutation } from '@tanstack/react-query';
import { useRef } from 'react';
import { ApiError, api, call, newIdempotencyKey } from '../api/client';
import { fieldErrors } from '../api/words';
import { Field, FormError } from '../ui';

/**
 * The agency buys pool credits from the platform: POST /v1/credits/purchases → Stripe Checkout.
 * One Idempotency-Key per attempt: a retry after a lost answer or a 5xx reuses it (the same
 * purchase); a changed amount or a refusal gets a new one.
 */
export function BuyPoolCredits() {
  const key = useRef(newIdempotencyKey());
  const buy = useMutation({
    mutationFn: (amount: number) =>
      call(
        api.POST('/v1/credits/purchases', {
          params: { header: { 'Idempotency-Key': key.current } },
          body: { credits: amount },
        }),
      ),
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
        buy.mutate(Number(new FormData(e.currentTarget).get('credits')));
      }}
      onChange={() => {
        key.current = newIdempotencyKey();
      }}
    >
      <h3 id="buy-pool-h">Buy pool credits</h3>
      <FormError error={buy.error} />
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
      <button type="submit" disabled={busy}>
        {busy ? 'Opening checkout…' : 'Buy pool credits'}
      </button>
    </form>
  );
}
