import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type Stripe from 'stripe';
import { newId, nowSeconds } from './ids';
import { signPayload } from './signing';
import type { Scope, Store } from './store';

const MAX_RECORDED = 10_000;

export type EventType = Stripe.Event['type'];
export type EventOf<K extends EventType> = Extract<Stripe.Event, { type: K }>;

/** Which API request caused an event: `{id:null}` for the customer's or the dashboard's actions. */
export interface EventRequest {
  id: string | null;
  idempotency_key: string | null;
}
export const NO_REQUEST: EventRequest = { id: null, idempotency_key: null };

export interface RetryPolicy {
  /** Total attempts per event, the first included (Stripe: for up to three days). Default 6. */
  attempts?: number;
  /** Delay before the first retry; each next one doubles (1 s, 2 s, 4 s…). Default 1000. */
  baseDelayMs?: number;
  /** Cap on one delay. Default 60 000. */
  maxDelayMs?: number;
  /** How long an endpoint may take to answer before the attempt counts as failed. Default 10 000. */
  timeoutMs?: number;
}

/** One delivery attempt, as listed by `GET /sandbox/events` (newest first). */
export interface Delivery {
  id: string;
  type: string;
  /** The connected account for Connect events; null for the platform's own. */
  account: string | null;
  /** null when that endpoint's URL is not configured: recorded, signed, never sent. */
  url: string | null;
  /** The exact bytes sent, and their Stripe-Signature header. */
  body: string;
  signature: string;
  attempt: number;
  /** The endpoint's HTTP status; null while in flight, on a connection error, or when not sent. */
  status: number | null;
  outcome: 'pending' | 'delivered' | 'failed' | 'not_sent';
  error: string | null;
}

export interface Endpoints {
  platform: { url: string | null; secret: string };
  connect: { url: string | null; secret: string };
}

/**
 * Creates Stripe.Event objects and delivers them like Stripe: events of a connected account
 * (`account` set) to the Connect endpoint, the platform's own to the platform endpoint,
 * each signed with that endpoint's secret; a non-2xx answer, a connection error or a
 * timeout is retried with exponential backoff, every attempt recorded.
 */
export class EventBus {
  readonly deliveries: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly chains = new Map<string, Promise<void>>();
  private readonly aborter = new AbortController();
  private readonly retry: Required<RetryPolicy>;

  constructor(
    private readonly store: Store,
    readonly endpoints: Endpoints,
    private readonly opts: {
      apiVersion: string;
      retry?: RetryPolicy;
      enabledEvents: readonly string[];
      log: (line: string) => void;
    },
  ) {
    this.retry = { attempts: 6, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 10_000, ...opts.retry };
  }

  emit<K extends EventType>(
    type: K,
    object: EventOf<K>['data']['object'],
    ctx: { scope: Scope; request: EventRequest; previous?: EventOf<K>['data']['previous_attributes'] },
  ): EventOf<K> {
    const endpoint = this.endpointFor(ctx.scope);
    const enabled = this.enabled(type);
    const base: Stripe.EventBase = {
      id: newId('evt'),
      object: 'event',
      ...(ctx.scope ? { account: ctx.scope } : {}),
      api_version: this.opts.apiVersion,
      created: nowSeconds(),
      data: {
        object: structuredClone(object),
        ...(ctx.previous ? { previous_attributes: structuredClone(ctx.previous) } : {}),
      },
      livemode: false,
      pending_webhooks: enabled && endpoint.url ? 1 : 0,
      request: ctx.request,
      type,
    };
    const event = base as EventOf<K>;
    this.store.events.set(event.id, { scope: ctx.scope, object: event });
    // Stripe's payloads are pretty-printed JSON; the signature covers these exact bytes.
    if (enabled) this.attempt(event, JSON.stringify(event, null, 2), 1);
    return event;
  }

  /** Delivers a stored event again (Stripe dashboard's "Resend"), as a new chain of attempts. */
  resend(event: Stripe.Event): void {
    this.attempt(event, JSON.stringify(event, null, 2), 1);
  }

  private enabled(type: string): boolean {
    return this.opts.enabledEvents.includes('*') || this.opts.enabledEvents.includes(type);
  }

  private endpointFor(scope: Scope) {
    return scope ? this.endpoints.connect : this.endpoints.platform;
  }

  /**
   * First attempts to one endpoint go out one at a time, in the order the events happened
   * (Stripe promises no order, but it is the usual case; the platform must cope with any).
   * Retries run on their own timers, so they can arrive after later events, as at Stripe.
   */
  private attempt(event: Stripe.Event, body: string, attempt: number): void {
    const endpoint = this.endpointFor(event.account ?? null);
    const url = endpoint.url;
    if (!url) {
      this.record(event, body, endpoint.secret, null, attempt, 'no webhook URL configured for this endpoint');
      return;
    }
    if (this.aborter.signal.aborted) return;
    const previous = attempt === 1 ? (this.chains.get(url) ?? Promise.resolve()) : Promise.resolve();
    const done = previous.then(() => this.deliver(event, body, endpoint.secret, url, attempt));
    if (attempt === 1) this.chains.set(url, done);
    this.inFlight.add(done);
    void done.finally(() => {
      this.inFlight.delete(done);
      if (this.chains.get(url) === done) this.chains.delete(url);
    });
  }

  private record(event: Stripe.Event, body: string, secret: string, url: string | null, attempt: number, error: string | null) {
    const delivery: Delivery = {
      id: event.id,
      type: event.type,
      account: event.account ?? null,
      url,
      body,
      signature: signPayload(body, secret, nowSeconds()),
      attempt,
      status: null,
      outcome: url ? 'pending' : 'not_sent',
      error,
    };
    this.deliveries.push(delivery);
    // A long `npm start` session keeps the newest attempts only.
    if (this.deliveries.length > MAX_RECORDED) this.deliveries.splice(0, this.deliveries.length - MAX_RECORDED);
    return delivery;
  }

  private async deliver(event: Stripe.Event, body: string, secret: string, url: string, attempt: number): Promise<void> {
    if (this.aborter.signal.aborted) return;
    const delivery = this.record(event, body, secret, url, attempt, null);
    await this.send(url, delivery);
    const ok = delivery.status !== null && delivery.status >= 200 && delivery.status < 300;
    delivery.outcome = ok ? 'delivered' : 'failed';
    this.opts.log(`stripe-sandbox: ${event.type} ${event.id} → ${url} ${delivery.status ?? delivery.error} (attempt ${attempt})`);
    if (ok) {
      event.pending_webhooks = 0;
      return;
    }
    if (attempt >= this.retry.attempts || this.aborter.signal.aborted) return;
    const delay = Math.min(this.retry.baseDelayMs * 2 ** (attempt - 1), this.retry.maxDelayMs);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.attempt(event, body, attempt + 1);
    }, delay);
    this.timers.add(timer);
  }

  private send(url: string, delivery: Delivery): Promise<void> {
    return new Promise((resolve) => {
      const target = new URL(url);
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(target, {
        method: 'POST',
        agent: false,
        signal: this.aborter.signal,
        timeout: this.retry.timeoutMs,
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'Content-Length': Buffer.byteLength(delivery.body),
          'Stripe-Signature': delivery.signature,
          'User-Agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'Cache-Control': 'no-cache',
          Accept: '*/*; q=0.5, application/xml',
        },
      });
      req.on('response', (res) => {
        delivery.status = res.statusCode ?? null;
        res.resume();
        res.on('end', resolve);
        res.on('error', () => resolve());
      });
      req.on('timeout', () => req.destroy(new Error(`timed out after ${this.retry.timeoutMs} ms`)));
      req.on('error', (err) => {
        delivery.error = err.message;
        resolve();
      });
      req.end(delivery.body);
    });
  }

  /** Resolves once no delivery is in flight or waiting for a retry. */
  async settled(): Promise<void> {
    while (this.inFlight.size || this.timers.size) {
      if (this.inFlight.size) await Promise.all([...this.inFlight]);
      else await new Promise((r) => setTimeout(r, 20));
    }
  }

  stop(): void {
    this.aborter.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
