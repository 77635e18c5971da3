import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call, type Schemas } from '../../api/client';
import { Table } from '../../lists';
import { ConfirmButton, Dialog, Loaded, ShownOnce } from '../../ui';
import { EndpointDeliveries } from './endpoint-deliveries';
import { webhookKeys } from './queries';
import { eventTypeNames, WebhookEndpointForm } from './webhook-endpoint-form';

type Endpoint = Schemas['EventWebhookEndpoint'];
const path = (webhookEndpointId: string) => ({ params: { path: { webhookEndpointId } } });

/**
 * Event webhooks: the agency's endpoints (at most 10, so one list), each with the event types it
 * receives; Add and Rotate show the signing secret once; Deliveries opens an endpoint's log.
 */
export function EventWebhooks() {
  const qc = useQueryClient();
  const endpoints = useQuery({ queryKey: webhookKeys.endpoints, queryFn: () => call(api.GET('/v1/webhook-endpoints')) });
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<Schemas['EventWebhookEndpointCreated']>();
  const [editing, setEditing] = useState<Endpoint>();
  const [shownId, setShownId] = useState<string>();
  const closeAdd = () => {
    setAdding(false);
    setCreated(undefined);
  };
  const shown = endpoints.data?.items.find((e) => e.id === shownId);
  return (
    <>
      <h1>Event Webhooks</h1>
      <p>
        We send a signed request (Standard Webhooks) to your endpoints when something happens in your agency: a sub-account
        created, a purchase paid, a balance running low… Choose which event types each endpoint receives.
      </p>
      <button type="button" onClick={() => setAdding(true)}>
        Add endpoint
      </button>
      <Loaded query={endpoints} label="your webhook endpoints">
        {(l) => (
          <Table
            caption="Your webhook endpoints"
            columns={['URL', 'Event types', 'Status', 'Actions']}
            items={l.items}
            empty="No endpoints yet: click Add endpoint."
            row={(e) => (
              <tr key={e.id}>
                <th scope="row">
                  {e.url}
                  {e.description && <p className="hint">{e.description}</p>}
                </th>
                <td>{e.events.map((t) => eventTypeNames[t]).join(', ')}</td>
                <td>{e.enabled ? 'Enabled' : `Disabled: ${e.disabledReason ?? 'turned off'}`}</td>
                <td className="actions">
                  <button type="button" aria-label={`Deliveries of ${e.url}`} onClick={() => setShownId(e.id)}>
                    Deliveries
                  </button>
                  <button type="button" aria-label={`Edit ${e.url}`} onClick={() => setEditing(e)}>
                    Edit
                  </button>
                  <RotateButton endpoint={e} />
                  <ConfirmButton
                    label="Delete"
                    ariaLabel={`Delete ${e.url}`}
                    title="Delete this endpoint?"
                    confirm="Delete endpoint"
                    act={() => call(api.DELETE('/v1/webhook-endpoints/{webhookEndpointId}', path(e.id)))}
                    onDone={() => {
                      if (shownId === e.id) setShownId(undefined);
                      void qc.invalidateQueries({ queryKey: webhookKeys.endpoints });
                    }}
                  >
                    <p>We stop sending events to {e.url} and forget its signing secret; deliveries still being tried fail.</p>
                  </ConfirmButton>
                </td>
              </tr>
            )}
          />
        )}
      </Loaded>
      {shown && <EndpointDeliveries key={shown.id} endpoint={shown} />}
      <Dialog title={created ? 'Endpoint added' : 'Add endpoint'} open={adding} onClose={closeAdd}>
        {created ? (
          <>
            <p>Events for {created.endpoint.url} are signed with this secret. Keep it on your server to check the signatures.</p>
            <SecretOnce secret={created.secret} />
            <button type="button" onClick={closeAdd}>
              Done
            </button>
          </>
        ) : (
          <WebhookEndpointForm onCreated={setCreated} onDone={closeAdd} />
        )}
      </Dialog>
      <Dialog title="Edit endpoint" open={!!editing} onClose={() => setEditing(undefined)}>
        {editing && <WebhookEndpointForm endpoint={editing} onDone={() => setEditing(undefined)} />}
      </Dialog>
    </>
  );
}

function SecretOnce({ secret }: { secret: string }) {
  return (
    <>
      <ShownOnce label="Signing secret" value={secret} copyLabel="Copy secret" />
      <p className="notice">Copy it now: you won't see it again. If it is lost, rotate it for a new one.</p>
    </>
  );
}

/** A new signing secret after a confirm, shown once in the dialog; the old one keeps signing for 24 hours. */
function RotateButton({ endpoint }: { endpoint: Endpoint }) {
  return (
    <ConfirmButton
      label="Rotate secret"
      ariaLabel={`Rotate secret of ${endpoint.url}`}
      title="Rotate the signing secret?"
      confirm="Rotate secret"
      act={() => call(api.POST('/v1/webhook-endpoints/{webhookEndpointId}/rotate-secret', path(endpoint.id)))}
      result={(r, close) => (
        <>
          <p>The new signing secret of {endpoint.url}:</p>
          <SecretOnce secret={r.secret} />
          <button type="button" onClick={close}>
            Done
          </button>
        </>
      )}
    >
      <p>
        We make a new secret for {endpoint.url}. For 24 hours every event carries signatures with both the new and the old secret:
        put the new one on your server within a day.
      </p>
    </ConfirmButton>
  );
}
