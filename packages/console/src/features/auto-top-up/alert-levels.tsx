import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormError, Loaded } from '../../ui';
import { alertOptions } from './queries';

/** Low-balance alert levels: an empty field is off. */
export function AlertLevels() {
  const qc = useQueryClient();
  const levels = useQuery(alertOptions());
  const save = useMutation({
    mutationFn: (body: Schemas['AlertsRequest']) => call(api.PUT('/v1/credits/alerts', { body })),
    onSuccess: (next) => qc.setQueryData(alertOptions().queryKey, next),
  });
  const errors = fieldErrors(save.error);
  const level = (v: FormDataEntryValue | null) => (String(v ?? '').trim() === '' ? null : Number(v));
  return (
    <Loaded query={levels} label="the alert levels">
      {(l) => (
        <form
          aria-labelledby="alerts-h"
          onSubmit={(e) => {
            e.preventDefault();
            if (save.isPending) return;
            const form = new FormData(e.currentTarget);
            save.mutate({ poolBelow: level(form.get('poolBelow')), walletBelow: level(form.get('walletBelow')) });
          }}
          onChange={() => save.isSuccess && save.reset()}
        >
          <h3 id="alerts-h">Low-balance alerts</h3>
          <p>
            We email you once each time a balance falls below its level (not on every use). Leave a field empty to turn it off.
          </p>
          <FormError error={save.error} />
          <Field
            label="Email me when the pool falls below (credits)"
            name="poolBelow"
            type="number"
            min={0}
            inputMode="numeric"
            defaultValue={l.poolBelow ?? undefined}
            error={errors.poolBelow}
          />
          <Field
            label="Email me when a client's wallet falls below (credits)"
            name="walletBelow"
            type="number"
            min={0}
            inputMode="numeric"
            hint="Any reselling client's wallet."
            defaultValue={l.walletBelow ?? undefined}
            error={errors.walletBelow}
          />
          <button type="submit" disabled={save.isPending}>
            Save alerts
          </button>
          {save.isSuccess && <p role="status">Alerts saved.</p>}
        </form>
      )}
    </Loaded>
  );
}
