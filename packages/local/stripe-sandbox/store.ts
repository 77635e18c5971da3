import type Stripe from 'stripe';
import { resourceMissing } from './errors';

/**
 * Where an object lives, as at Stripe: the connected account it was created on (the
 * request's Stripe-Account header), or null for the platform's own account. Objects are
 * only visible in their own scope; asking for them from another answers 404, as Stripe does.
 */
export type Scope = string | null;

export interface Scoped<T> {
  scope: Scope;
  object: T;
}

export interface LineItem {
  name: string;
  description: string | null;
  currency: string;
  quantity: number;
  unit: { amount: number } | { decimal: string };
  amount: number;
}

export interface SessionRecord extends Scoped<Stripe.Checkout.Session> {
  lineItems: LineItem[];
  /** payment_intent_data, applied when the customer pays (Checkout creates the PaymentIntent then). */
  intentData: { applicationFeeAmount: number | null; metadata: Record<string, string>; description: string | null };
}

export interface AccountLinkRecord {
  id: string;
  account: string;
  refreshUrl: string | null;
  returnUrl: string | null;
  expiresAt: number;
  used: boolean;
}

export interface IdempotentResult {
  endpoint: string;
  params: string;
  status: number;
  body: string;
  requestId: string;
}

/** One API request as Stripe's request logs show it: who it was made for, what it answered, whether a key replayed it. */
export interface RequestLogEntry {
  method: string;
  path: string;
  account: Scope;
  status: number;
  replayed: boolean;
}
/** The newest requests kept (a long `npm start` must not grow without bound). */
export const REQUEST_LOG_SIZE = 10_000;

/** Everything the sandbox knows, in memory: a restart starts from an empty Stripe account. */
export class Store {
  readonly accounts = new Map<string, Stripe.Account>();
  readonly accountLinks = new Map<string, AccountLinkRecord>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly intents = new Map<string, Scoped<Stripe.PaymentIntent>>();
  readonly charges = new Map<string, Scoped<Stripe.Charge>>();
  readonly refunds = new Map<string, Scoped<Stripe.Refund>>();
  readonly disputes = new Map<string, Scoped<Stripe.Dispute>>();
  /** Accounts that disconnected the platform: every call made for them is refused (403 account_invalid). */
  readonly deauthorized = new Set<string>();
  readonly events = new Map<string, Scoped<Stripe.Event>>();
  /** Saved cards (api-customers.ts): customers, their payment methods (each of a test-card kind), the SetupIntents that saved them. */
  readonly customers = new Map<string, Scoped<Stripe.Customer>>();
  readonly paymentMethods = new Map<
    string,
    Scoped<Stripe.PaymentMethod> & { kind: 'success' | 'decline' | 'authentication_required' }
  >();
  readonly setupIntents = new Map<string, Scoped<Stripe.SetupIntent>>();
  /** Keyed by scope and Idempotency-Key, as Stripe scopes keys to the account. */
  readonly idempotency = new Map<string, IdempotentResult>();
  /** The API's request log, oldest first (GET /sandbox/requests). */
  readonly requests: RequestLogEntry[] = [];

  logRequest(entry: RequestLogEntry): void {
    if (this.requests.push(entry) > REQUEST_LOG_SIZE) this.requests.shift();
  }

  account(id: string): Stripe.Account {
    const account = this.accounts.get(id);
    if (!account) throw resourceMissing('account', id, 'account');
    return account;
  }

  session(id: string, scope: Scope | undefined): SessionRecord {
    return visible(this.sessions.get(id), scope) ?? throwMissing('checkout.session', id, 'session');
  }

  intent(id: string, scope: Scope | undefined): Scoped<Stripe.PaymentIntent> {
    return visible(this.intents.get(id), scope) ?? throwMissing('payment_intent', id, 'intent');
  }

  charge(id: string, scope: Scope | undefined): Scoped<Stripe.Charge> {
    return visible(this.charges.get(id), scope) ?? throwMissing('charge', id, 'charge');
  }

  refund(id: string, scope: Scope | undefined): Scoped<Stripe.Refund> {
    return visible(this.refunds.get(id), scope) ?? throwMissing('refund', id, 'refund');
  }

  dispute(id: string, scope: Scope | undefined): Scoped<Stripe.Dispute> {
    return visible(this.disputes.get(id), scope) ?? throwMissing('dispute', id, 'dispute');
  }

  paymentMethod(id: string, scope: Scope | undefined) {
    return visible(this.paymentMethods.get(id), scope) ?? throwMissing('payment_method', id, 'payment_method');
  }

  /** Every object of a kind in one account, newest first, as Stripe lists them. */
  list<T extends { created: number }>(map: Map<string, Scoped<T>>, scope: Scope, keep: (o: T) => boolean): T[] {
    return [...map.values()]
      .filter((r) => r.scope === scope && keep(r.object))
      .map((r) => r.object)
      .sort((a, b) => b.created - a.created);
  }

  event(id: string, scope: Scope | undefined): Scoped<Stripe.Event> {
    return visible(this.events.get(id), scope) ?? throwMissing('event', id, 'id');
  }

  /** The object an id names, for `expand`: any kind the sandbox stores, in this scope only. */
  byId(id: string, scope: Scope): unknown {
    for (const map of [
      this.intents,
      this.charges,
      this.refunds,
      this.disputes,
      this.sessions,
      this.customers,
      this.paymentMethods,
      this.setupIntents,
    ]) {
      const found = (map as Map<string, Scoped<unknown>>).get(id);
      if (found && found.scope === scope) return found.object;
    }
    return undefined;
  }
}

/** `scope` undefined = the sandbox's own control routes, which see every account. */
function visible<T extends { scope: Scope }>(record: T | undefined, scope: Scope | undefined): T | undefined {
  if (!record) return undefined;
  return scope === undefined || record.scope === scope ? record : undefined;
}

function throwMissing(kind: string, id: string, param: string): never {
  throw resourceMissing(kind, id, param);
}
