import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { errorSentence, fieldErrors } from '../../api/words';
import { Table } from '../../lists';
import { Field, FormError, Loaded, Section, ShownOnce } from '../../ui';
import { RechargeRequests } from '../reselling/recharge-requests';
import { DeleteWebhook } from './delete-webhook';
import { rechargeWebhookOptions, webhookKeys } from './queries';

const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

/**
 * The seed's "Auto-Recharge Webhook" section: the agency's payment server URL, its signing
 * secret (shown once, on creation and on rotation), a test event, the delivery log with a
 * manual retry, and the recharge requests the webhooks announce.
 */
export function RechargeWebhook() {
  const qc = useQueryClient();
  const hook = useQuery(rechargeWebhookOptions());
  const [secret, setSecret] = useState<string>();
  const save = useMutation({
    mutationFn: (url: string) => call(api.PUT('/v1/reselling/auto-recharge-webhook', { body: { url } })),
    onSuccess: (r) => {
      setSecret(r.secret); // only when the endpoint was created: a new URL keeps the secret
      qc.setQueryData(rechargeWebhookOptions().queryKey, () => ({
        url: r.url,
        enabled: r.enabled,
        disabledReason: r.disabledReason,
      }));
    },
  });
  const rotate = useMutation({
    mutationFn: () => call(api.POST('/v1/reselling/auto-recharge-webhook/rotate-secret')),
    onSuccess: (r) => setSecret(r.secret),
  });
  const errors = fieldErrors(save.error);
  return (
    <Section title="Auto-Recharge Webhook">
      <p>
        Use your own payment system: when a sub-account's wallet drops below its auto-recharge threshold, we send a signed request
        to this address. Your server charges the client and grants the credits with the request id.
      </p>
      <Loaded query={hook} label="the webhook">
        {(h) => (
          <>
            {h && !h.enabled && (
              <p className="notice" data-testid="webhook-disabled">
                Deliveries are paused{h.disabledReason ? ` (${h.disabledReason})` : ''}. Save the URL again to resume them.
              </p>
            )}
            <form
              key={h ? 'saved' : 'none'}
              onSubmit={(e) => {
                e.preventDefault();
                if (!save.isPending) save.mutate(String(new FormData(e.currentTarget).get('url') ?? '').trim());
              }}
            >
              <FormError error={save.error} />
              <Field
                label="Webhook URL"
                name="url"
                type="url"
                required
                defaultValue={h?.url}
                placeholder="https://billing.example.com/recharge"
                error={errors.url}
              />
              <button type="submit" disabled={save.isPending}>
                Save webhook
              </button>
            </form>
            {secret && (
              <ShownOnce label="Signing secret (copy it now: it is shown only once)" value={secret} copyLabel="Copy secret" />
            )}
            {h && (
              <>
                <div className="actions">
                  <button type="button" onClick={() => rotate.isPending || rotate.mutate()} disabled={rotate.isPending}>
                    Rotate secret
                  </button>
                  <DeleteWebhook onDeleted={() => setSecret(undefined)} />
                </div>
                <p className="hint">
                  After a rotation, every webhook carries signatures with both the new and the old secret for 24 hours.
                </p>
                {rotate.isError && <p role="alert">{errorSentence(rotate.error)}</p>}
                <Deliveries enabled={h.enabled} />
              </>
            )}
            {/* Requests outlive the webhook: after a delete the open ones can still be granted by hand. */}
            <RechargeRequests />
          </>
        )}
      </Loaded>
    </Section>
  );
}

type Delivery = Schemas['WebhookDelivery'];
const eventNames: Record<Delivery['eventType'], string> = {
  'credits.recharge_requested': 'Recharge requested',
  'webhook.test': 'Test',
};

/** The delivery log, newest first; while any delivery is still being tried it is read again every second. */
function Deliveries({ enabled }: { enabled: boolean }) {
  const deliveries = useQuery({
    queryKey: webhookKeys.rechargeDeliveries,
    queryFn: () => call(api.GET('/v1/reselling/webhook-deliveries', { params: { query: { limit: 20 } } })),
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === 'pending') ? 1000 : false),
  });
  const refresh = () => deliveries.refetch();
  const test = useMutation({
    mutationFn: () => call(api.POST('/v1/reselling/auto-recharge-webhook/test')),
    onSettled: refresh,
  });
  const retry = useMutation({
    mutationFn: (deliveryId: string) =>
      call(api.POST('/v1/reselling/webhook-deliveries/{deliveryId}/retry', { params: { path: { deliveryId } } })),
    onSettled: refresh,
  });
  return (
    <>
      <div className="actions">
        <button type="button" onClick={() => test.isPending || test.mutate()} disabled={test.isPending}>
          Send test
        </button>
        <button type="button" onClick={() => void refresh()}>
          Refresh deliveries
        </button>
      </div>
      {test.isError && (
        <p role="alert">
          {!enabled && test.error instanceof ApiError && test.error.status === 409
            ? 'Deliveries are paused: save the URL again to resume them, then send the test.'
            : errorSentence(test.error)}
        </p>
      )}
      {retry.isError && <p role="alert">{errorSentence(retry.error)}</p>}
      <Loaded query={deliveries} label="the delivery log">
        {(l) => (
          <Table
            caption="Delivery log"
            columns={['Sent', 'Event', 'Status', 'Attempts', 'Last answer', 'Next attempt', 'Actions']}
            items={l.items}
            empty="No webhooks sent yet. Send a test to check your server."
            row={(d) => (
              <tr key={d.id}>
                <td>{when(d.createdAt)}</td>
                <td>{eventNames[d.eventType]}</td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>{d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? '')}</td>
                <td>{when(d.nextAttemptAt)}</td>
                <td>
                  {d.status === 'failed' && (
                    <button
                      type="button"
                      aria-label={`Retry the ${eventNames[d.eventType].toLowerCase()} webhook of ${when(d.createdAt)}`}
                      disabled={retry.isPending}
                      onClick={() => retry.isPending || retry.mutate(d.id)}
                    >
                      Retry
                    </button>
                  )}
                </td>
              </tr>
            )}
          />
        )}
      </Loaded>
    </>
  );
}
