import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef } from 'react';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { errorSentence } from '../../api/words';
import { Pager, Table, useCursorPages } from '../../lists';
import { Section } from '../../ui';
import { webhookKeys } from './queries';
import { eventTypeNames } from './webhook-endpoint-form';

const PAGE = 20;
const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');
type Delivery = Schemas['EventWebhookDelivery'];
const eventName = (t: Delivery['eventType']) => (t === 'webhook.test' ? 'Test' : eventTypeNames[t]);

/**
 * One endpoint's delivery log, newest first and paged by the API's cursor, with Send test and
 * a Retry for a failed delivery. While any delivery is still being tried it is read again every
 * second; each change also re-reads the endpoints (a 410 answer turns the endpoint off).
 */
export function EndpointDeliveries({ endpoint }: { endpoint: Schemas['EventWebhookEndpoint'] }) {
  const qc = useQueryClient();
  const webhookEndpointId = endpoint.id;
  const pages = useCursorPages();
  const { cursor } = pages;
  const deliveries = useQuery({
    queryKey: webhookKeys.endpointDeliveryPage(webhookEndpointId, cursor),
    queryFn: () =>
      call(
        api.GET('/v1/webhook-endpoints/{webhookEndpointId}/deliveries', {
          params: { path: { webhookEndpointId }, query: { limit: PAGE, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    placeholderData: (prev) => prev,
    refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === 'pending') ? 1000 : false),
  });
  useEndpointFollowsDeliveries(deliveries.data?.items);
  const refresh = () => qc.invalidateQueries({ queryKey: webhookKeys.endpointDeliveries(webhookEndpointId) });
  const test = useMutation({
    mutationFn: () =>
      call(api.POST('/v1/webhook-endpoints/{webhookEndpointId}/test', { params: { path: { webhookEndpointId } } })),
    onSettled: refresh,
  });
  const retry = useMutation({
    mutationFn: (deliveryId: string) =>
      call(
        api.POST('/v1/webhook-endpoints/{webhookEndpointId}/deliveries/{deliveryId}/retry', {
          params: { path: { webhookEndpointId, deliveryId } },
        }),
      ),
    onSettled: refresh,
  });
  return (
    <Section title={`Deliveries to ${endpoint.url}`}>
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
          {!endpoint.enabled && test.error instanceof ApiError && test.error.status === 409
            ? 'This endpoint is turned off: turn it on with Edit, then send the test.'
            : errorSentence(test.error)}
        </p>
      )}
      {retry.isError && <p role="alert">{errorSentence(retry.error)}</p>}
      {deliveries.isError && <p role="alert">Could not load the deliveries. {errorSentence(deliveries.error)}</p>}
      <Table
        caption="Delivery log"
        columns={['Sent', 'Event', 'Status', 'Attempts', 'Last answer', 'Next attempt', 'Actions']}
        items={deliveries.data?.items ?? []}
        empty={deliveries.isPending ? 'Loading the deliveries…' : 'Nothing sent yet. Send a test to check your server.'}
        row={(d) => (
          <tr key={d.id}>
            <td>{when(d.createdAt)}</td>
            <td>{eventName(d.eventType)}</td>
            <td>{d.status}</td>
            <td>{d.attempts}</td>
            <td>{d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : (d.lastError ?? '')}</td>
            <td>{when(d.nextAttemptAt)}</td>
            <td>
              {d.status === 'failed' && (
                <button
                  type="button"
                  aria-label={`Retry the ${eventName(d.eventType)} delivery of ${when(d.createdAt)}`}
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
      <Pager label="Delivery pages" pages={pages} nextCursor={deliveries.data?.nextCursor} />
    </Section>
  );
}

/** After the log first loads, every change in it (a new delivery, an attempt, an outcome) re-reads the endpoints list. */
function useEndpointFollowsDeliveries(items: Delivery[] | undefined) {
  const qc = useQueryClient();
  const seen = useRef<string>(undefined);
  const state = items?.map((d) => `${d.id}:${d.status}:${d.attempts}`).join(',');
  useEffect(() => {
    if (state === undefined) return;
    if (seen.current !== undefined && seen.current !== state) void qc.invalidateQueries({ queryKey: webhookKeys.endpoints });
    seen.current = state;
  }, [state, qc]);
}
