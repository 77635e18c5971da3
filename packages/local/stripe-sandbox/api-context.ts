import type { Ctx } from './flows';
import type { FormObject } from './form';
import type { Scope } from './store';

/** What every sandbox API route is given: the sandbox's state and how it is reached. */
export interface ApiContext extends Ctx {
  baseUrl: string;
  secretKey: string;
}

export interface ApiRequest {
  method: string;
  path: string;
  /** The form body (POST) or query string (GET), parsed. */
  params: FormObject;
  /** The Stripe-Account header: the connected account acted on, or null for the platform. */
  scope: Scope;
  requestId: string;
  idempotencyKey: string | null;
}
