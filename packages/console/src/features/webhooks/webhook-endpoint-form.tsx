import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormActions, FormError } from '../../ui';
import { webhookKeys } from './queries';

type Endpoint = Schemas['EventWebhookEndpoint'];
export type EventType = Endpoint['events'][number];

/**
 * Every event type an endpoint can subscribe to, in words. The keys are the API's own enum
 * (the generated types): a type added to or removed from the catalog fails the typecheck here
 * until this list follows, so the checkboxes always offer exactly what the API accepts.
 */
export const eventTypeNames = {
  'sub_account.created': 'Sub-account created',
  'sub_account.updated': 'Sub-account updated',
  'sub_account.closed': 'Sub-account closed',
  'sub_account.reopened': 'Sub-account reopened',
  'credit_limit.reached': 'Monthly credit limit reached',
  'grant.created': 'Credits granted',
  'purchase.paid': 'Purchase paid',
  'purchase.refunded': 'Purchase refunded',
  'purchase.disputed': 'Purchase disputed',
  'auto_top_up.succeeded': 'Auto top-up succeeded',
  'auto_top_up.failed': 'Auto top-up failed',
  'pool.low': 'Agency pool low',
  'wallet.low': 'Sub-account wallet low',
  'recharge.requested': 'Recharge requested',
} as const satisfies Record<EventType, string>;
const eventTypes = Object.keys(eventTypeNames) as EventType[];

/**
 * Add or Edit an event webhook endpoint: its URL, what it is for, the event types it receives
 * and (editing) whether it is on. Refusals are said next to their fields. Editing sends the URL
 * only when it changed: an unchanged one is not checked (and re-enabled) again.
 */
export function WebhookEndpointForm({
  endpoint,
  onCreated,
  onDone,
}: {
  endpoint?: Endpoint;
  onCreated?: (created: Schemas['EventWebhookEndpointCreated']) => void;
  onDone: () => void;
}) {
  const qc = useQueryClient();
  const save = useMutation({
    mutationFn: async (form: FormData) => {
      const url = String(form.get('url') ?? '').trim();
      const description = String(form.get('description') ?? '').trim();
      const events = form.getAll('events') as EventType[];
      if (!endpoint)
        return call(api.POST('/v1/webhook-endpoints', { body: { url, events, ...(description && { description }) } }));
      const body: Schemas['PatchWebhookEndpointRequest'] = {
        events,
        enabled: form.get('enabled') === 'on',
        ...(url !== endpoint.url && { url }),
        ...(description !== (endpoint.description ?? '') && { description }),
      };
      await call(
        api.PATCH('/v1/webhook-endpoints/{webhookEndpointId}', { params: { path: { webhookEndpointId: endpoint.id } }, body }),
      );
      return undefined;
    },
    onSuccess: (created) => {
      void qc.invalidateQueries({ queryKey: webhookKeys.endpoints });
      if (created) onCreated?.(created);
      else onDone();
    },
  });
  const errors = fieldErrors(save.error);
  // An event type the API refused is named by its index (events.3): said once, under the group.
  const eventsError = errors.events ?? Object.entries(errors).find(([field]) => field.startsWith('events.'))?.[1];
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!save.isPending) save.mutate(new FormData(e.currentTarget));
      }}
    >
      {save.error instanceof ApiError && save.error.problem?.code === 'quota_exceeded' ? (
        <p role="alert" className="form-error">
          Your agency has the most endpoints it can have (10). Delete one you no longer use, or add event types to one of them.
        </p>
      ) : (
        <FormError error={save.error} />
      )}
      <Field
        label="Endpoint URL"
        name="url"
        type="url"
        required
        defaultValue={endpoint?.url}
        placeholder="https://crm.example.com/hooks/credits"
        error={errors.url}
      />
      <Field
        label="Description"
        name="description"
        defaultValue={endpoint?.description ?? ''}
        hint="Optional: what this endpoint is for."
        error={errors.description}
      />
      <fieldset aria-describedby={eventsError ? 'events-error' : undefined}>
        <legend>Event types</legend>
        {eventTypes.map((t) => (
          <label key={t} className="choice">
            <input type="checkbox" name="events" value={t} defaultChecked={endpoint?.events.includes(t) ?? false} />
            {eventTypeNames[t]} <code>{t}</code>
          </label>
        ))}
        {eventsError && (
          <p id="events-error" className="field-error">
            {eventsError}
          </p>
        )}
      </fieldset>
      {endpoint && (
        <label className="choice">
          <input type="checkbox" name="enabled" defaultChecked={endpoint.enabled} />
          Enabled: send events to this endpoint
        </label>
      )}
      <FormActions submit={endpoint ? 'Save' : 'Add endpoint'} disabled={save.isPending} onCancel={onDone} />
    </form>
  );
}
