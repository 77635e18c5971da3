import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError } from '../api/client';
import { errorSentence, fieldErrors } from '../api/words';
import { isUnknownRoute, pending } from '../pending/routes';
import { Field, FormError } from '../ui';

/**
 * The seed's "Auto-Recharge Webhook" section. Its routes are being built in parallel and are not
 * in the OpenAPI document yet (pending/routes.ts): where the server does not know them (404),
 * the section says so instead of failing.
 */
export function RechargeWebhook() {
  const qc = useQueryClient();
  const hook = useQuery({
    queryKey: ['recharge-webhook'],
    queryFn: async () => {
      try {
        return { available: true as const, hook: await pending.getWebhook() };
      } catch (err) {
        // Not configured (the route exists), or the route itself is not on this server yet.
        if (err instanceof ApiError && err.status === 404) return { available: !isUnknownRoute(err), hook: null };
        throw err;
      }
    },
  });
  const [secret, setSecret] = useState<string>();
  const save = useMutation({
    mutationFn: (form: FormData) => pending.putWebhook(String(form.get('url') ?? '').trim()),
    onSuccess: (r) => {
      setSecret(r.secret);
      void qc.invalidateQueries({ queryKey: ['recharge-webhook'] });
    },
  });
  const test = useMutation({ mutationFn: pending.testWebhook, onSettled: () => deliveries.refetch() });
  const deliveries = useQuery({ queryKey: ['webhook-deliveries'], queryFn: pending.deliveries, enabled: !!hook.data?.hook });
  const errors = fieldErrors(save.error);
  return (
    <section aria-labelledby="webhook-h">
      <h2 id="webhook-h">Auto-Recharge Webhook</h2>
      <p>Use your own payment system: we call this address when a sub-account's wallet drops below its threshold.</p>
      {hook.data && !hook.data.available && <p className="notice">Auto-recharge is not available on this server yet.</p>}
      {hook.isError && <p role="alert">{errorSentence(hook.error)}</p>}
      {hook.data?.available !== false && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!save.isPending) save.mutate(new FormData(e.currentTarget));
          }}
        >
          <FormError error={save.error} />
          <Field label="Webhook URL" name="url" type="url" required defaultValue={hook.data?.hook?.url} error={errors.url} />
          <button type="submit" disabled={save.isPending}>
            Save
          </button>
        </form>
      )}
      {secret && (
        <div className="field">
          <label htmlFor="webhook-secret">Signing secret (shown once)</label>
          <input id="webhook-secret" readOnly value={secret} />
        </div>
      )}
      {hook.data?.hook && (
        <>
          <button type="button" onClick={() => test.isPending || test.mutate()} disabled={test.isPending}>
            Send test
          </button>
          {test.isError && <p role="alert">{errorSentence(test.error)}</p>}
          <table>
            <caption>Delivery log</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last answer</th>
              </tr>
            </thead>
            <tbody>
              {(deliveries.data?.items ?? []).map((d) => (
                <tr key={d.id}>
                  <td>{d.createdAt.replace('T', ' ').slice(0, 19)}</td>
                  <td>{d.eventType}</td>
                  <td>{d.status}</td>
                  <td>{d.attempts}</td>
                  <td>{d.lastStatusCode ?? d.lastError ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
