import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';
import { ApiError, api, call, newIdempotencyKey, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormActions, FormError } from '../../ui';
import { accountKeys, agencyKeys } from '../dashboard/queries';
import { resellingKeys } from './queries';

/**
 * Grant credits from the agency pool into a reselling sub-account's wallet, optionally
 * fulfilling an open recharge request. One Idempotency-Key per attempt: a retry after a lost
 * answer or a 5xx reuses it (the same grant, never two); a refusal ends the attempt, and so
 * does changing the amount.
 */
export function GrantCredits(props: {
  subAccountId: string;
  name: string;
  credits?: number;
  requestId?: string;
  onDone: () => void;
}) {
  const { subAccountId, requestId, onDone } = props;
  const qc = useQueryClient();
  const attempt = useRef<{ body: string; key: string }>(undefined);
  const grant = useMutation({
    mutationFn: (body: Schemas['GrantRequest']) => {
      const json = JSON.stringify(body);
      if (attempt.current?.body !== json) attempt.current = { body: json, key: newIdempotencyKey() };
      return call(
        api.POST('/v1/sub-accounts/{subAccountId}/credits/grants', {
          params: { path: { subAccountId }, header: { 'Idempotency-Key': attempt.current.key } },
          body,
        }),
      );
    },
    onError: (err) => {
      if (err instanceof ApiError && !err.retryable) attempt.current = undefined;
    },
    onSuccess: () => {
      // What the grant changed: the request it fulfils, the wallet it filled, the pool it came from.
      for (const queryKey of [resellingKeys.rechargeRequests, accountKeys.wallets, agencyKeys.balance, resellingKeys.dashboards])
        void qc.invalidateQueries({ queryKey });
      onDone();
    },
  });
  const errors = fieldErrors(grant.error);
  const poolShort = grant.error instanceof ApiError && grant.error.problem?.code === 'insufficient_credits';
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (grant.isPending) return;
        const form = new FormData(e.currentTarget);
        const reference = String(form.get('reference') ?? '').trim();
        grant.mutate({ credits: Number(form.get('credits')), ...(reference && { reference }), ...(requestId && { requestId }) });
      }}
    >
      <p>
        Moves credits from your agency pool into the wallet of {props.name}
        {requestId ? ', and marks its recharge request fulfilled.' : '.'}
      </p>
      {poolShort ? (
        <p role="alert" className="form-error">
          Your agency pool does not have that many credits. Buy pool credits or grant fewer. Nothing was moved.
        </p>
      ) : (
        <FormError error={grant.error} />
      )}
      <Field
        label="Credits to grant"
        name="credits"
        type="number"
        min={1}
        required
        defaultValue={props.credits}
        error={errors.credits}
      />
      <Field label="Reference" name="reference" hint="Optional, e.g. your invoice number." error={errors.reference} />
      <FormActions submit="Grant" disabled={grant.isPending} onCancel={onDone} />
    </form>
  );
}
