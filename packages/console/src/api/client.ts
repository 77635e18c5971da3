import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];

/** An API refusal (problem JSON), a network failure or a server failure, as one error type for the screens. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    readonly retryAfterSeconds?: number,
  ) {
    super(problem?.detail ?? problem?.title ?? (status === 0 ? 'network failure' : `HTTP ${status}`));
    this.name = 'ApiError';
  }
  /** Worth trying again as is: the network, a 5xx, or throttling. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

let tokenSource: () => string | undefined = () => undefined;
let onUnauthenticated: () => void = () => {};

/** The session (session.tsx) tells the client which token to send and what to do when it stops working. */
export function bindSession(getToken: () => string | undefined, expired: () => void): void {
  tokenSource = getToken;
  onUnauthenticated = expired;
}

const auth: Middleware = {
  onRequest({ request }) {
    const token = tokenSource();
    if (token && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
    return request;
  },
  onResponse({ response, request }) {
    // A token that stopped working (expired, logged out elsewhere, password changed): back to sign-in.
    if (response.status === 401 && request.headers.has('authorization')) onUnauthenticated();
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? '' });
api.use(auth);

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Unwraps an openapi-fetch call: the typed body, or an ApiError (never a blank page). */
export async function call<T>(request: Promise<Result<T>>): Promise<T> {
  let result: Result<T>;
  try {
    result = await request;
  } catch {
    throw new ApiError(0, undefined);
  }
  const { response, data, error } = result;
  if (response.ok) return data as T;
  const problem = isProblem(error) ? error : undefined;
  const retryAfter = Number(response.headers.get('retry-after')) || undefined;
  throw new ApiError(response.status, problem, retryAfter);
}

function isProblem(value: unknown): value is Problem {
  return typeof value === 'object' && value !== null && 'code' in value && 'status' in value;
}

/** One key per attempt of a money-moving form: a retry of the same attempt reuses it, a new attempt gets a new one. */
export const newIdempotencyKey = (): string => crypto.randomUUID();
