/**
 * Calls to API routes that API.md promises but the served OpenAPI document does not describe
 * yet (auto-recharge, being built in parallel). They are kept here, untyped and in one place,
 * so that wiring them later is: delete this file, use `api` from ../api/client, and let the
 * compiler point at every use.
 */
import { ApiError, currentToken, type Problem, sessionRefused } from '../api/client';

/** The gateway's answer for a path the route table lacks (functions/http/fallback.ts), as opposed to a missing object. */
export const isUnknownRoute = (err: unknown): boolean =>
  err instanceof ApiError && err.status === 404 && (err.problem?.detail ?? '').startsWith('No route');

export interface AutoRecharge {
  enabled: boolean;
  threshold: number;
  credits: number;
}
export interface RechargeWebhook {
  url: string;
  enabled: boolean;
  disabledReason?: string;
  secret?: string;
}
export interface WebhookDelivery {
  id: string;
  eventType: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: string;
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: {
        authorization: `Bearer ${currentToken() ?? ''}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, undefined);
  }
  const text = await res.text();
  const json = text ? (JSON.parse(text) as unknown) : undefined;
  if (res.status === 401) sessionRefused();
  if (!res.ok) throw new ApiError(res.status, json as Problem | undefined);
  return json as T;
}

export const pending = {
  setAutoRecharge: (subAccountId: string, autoRecharge: AutoRecharge) =>
    send<unknown>('PATCH', `/v1/sub-accounts/${encodeURIComponent(subAccountId)}`, { autoRecharge }),
  getWebhook: () => send<RechargeWebhook>('GET', '/v1/reselling/auto-recharge-webhook'),
  putWebhook: (url: string) => send<RechargeWebhook>('PUT', '/v1/reselling/auto-recharge-webhook', { url }),
  testWebhook: () => send<{ deliveryId: string }>('POST', '/v1/reselling/auto-recharge-webhook/test'),
  deliveries: () => send<{ items: WebhookDelivery[] }>('GET', '/v1/reselling/webhook-deliveries'),
};
