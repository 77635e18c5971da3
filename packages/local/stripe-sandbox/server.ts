import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeApi } from './api';
import type { ApiContext } from './api-context';
import { type ControlBody, type FaultStatus, type Faults, routeControl } from './control';
import { accountInvalid, idempotencyError, invalidRequest, redactKey, StripeApiError } from './errors';
import { canonicalParams, parseStripeForm } from './form';
import { newId } from './ids';
import { json, type Reply } from './reply';

const MAX_BODY_BYTES = 1024 * 1024;

export interface ServerState {
  ctx: ApiContext;
  faults: Faults;
  apiVersion: string;
  /** Requests held open by the 'timeout' fault, closed on stop. */
  held: Set<ServerResponse>;
  log: (line: string) => void;
}

/** One request in: the Stripe API under /v1, the sandbox's own routes and pages under /sandbox. */
export async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const method = req.method ?? 'GET';
  const requestId = newId('req', 14);
  let reply: Reply | undefined;
  try {
    const body = await readBody(req);
    if (url.pathname.startsWith('/v1/')) {
      reply = api(state, req, res, method, url, body, requestId);
      if (!reply) return; // held open by the timeout fault
    } else if (url.pathname.startsWith('/sandbox/')) {
      reply = routeControl(state.ctx, state.faults, method, url, controlBody(req, body));
    } else {
      throw new StripeApiError(404, {
        type: 'invalid_request_error',
        message: `Unrecognized request URL (${method}: ${url.pathname})`,
      });
    }
  } catch (err) {
    reply = errorReply(err, state.log);
  }
  if (url.pathname.startsWith('/v1/')) {
    reply.headers['Request-Id'] ??= requestId;
    reply.headers['Stripe-Version'] = header(req, 'stripe-version') ?? state.apiVersion;
    state.log(`stripe-sandbox: ${method} ${url.pathname} ${reply.status}`);
  }
  res.writeHead(reply.status, reply.headers).end(reply.body);
}

function errorReply(err: unknown, log: (line: string) => void): Reply {
  if (err instanceof StripeApiError) return json(err.status, { error: err.body }, { ...err.headers });
  log(`stripe-sandbox: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return json(500, { error: { type: 'api_error', message: 'An unknown error occurred in the local Stripe sandbox.' } });
}

/** The API pipeline, in Stripe's order: availability (fault knob), API key, Stripe-Account, idempotency, the call. */
function api(
  state: ServerState,
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  url: URL,
  body: string,
  requestId: string,
): Reply | undefined {
  const { ctx, faults } = state;
  if (faults.remaining > 0) {
    faults.remaining--;
    state.log(`stripe-sandbox: fault ${faults.status} for ${method} ${url.pathname}`);
    if (faults.status === 'timeout') {
      state.held.add(res);
      res.on('close', () => state.held.delete(res));
      return undefined;
    }
    return faultReply(faults.status);
  }
  authenticate(ctx.secretKey, header(req, 'authorization'));
  const scope = header(req, 'stripe-account') || null;
  if (scope && (!ctx.store.accounts.has(scope) || ctx.store.deauthorized.has(scope))) throw accountInvalid(ctx.secretKey, scope);
  const params = parseStripeForm(method === 'GET' ? url.search.slice(1) : body);
  const key = method === 'POST' ? (header(req, 'idempotency-key') ?? null) : null;
  if (key !== null && key.length > 255) throw invalidRequest('Idempotency-Key must be at most 255 characters.', undefined);
  const endpoint = `${method} ${url.pathname}`;
  const slot = key === null ? undefined : `${scope ?? 'platform'}\u0000${key}`;
  const fingerprint = canonicalParams(params);
  const saved = slot ? ctx.store.idempotency.get(slot) : undefined;
  if (saved && key !== null) {
    if (saved.endpoint !== endpoint)
      throw idempotencyError(
        `Keys for idempotent requests can only be used for the same endpoint they were first used for ('${saved.endpoint}' vs '${endpoint}'). Try using a key other than '${key}' if you meant to execute a different request.`,
      );
    if (saved.params !== fingerprint)
      throw idempotencyError(
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      );
    ctx.store.logRequest({ method, path: url.pathname, account: scope, status: saved.status, replayed: true });
    return {
      status: saved.status,
      headers: {
        'Content-Type': 'application/json',
        'Idempotency-Key': key,
        'Idempotent-Replayed': 'true',
        'Original-Request': saved.requestId,
      },
      body: saved.body,
    };
  }
  // Handlers are synchronous, so no second request with this key can slip in before it is saved.
  let reply: Reply;
  try {
    reply = json(200, routeApi(ctx, { method, path: url.pathname, params, scope, requestId, idempotencyKey: key }));
  } catch (err) {
    reply = errorReply(err, state.log);
  }
  if (key !== null) reply.headers['Idempotency-Key'] = key;
  ctx.store.logRequest({ method, path: url.pathname, account: scope, status: reply.status, replayed: false });
  // Stripe saves a result once the endpoint ran (a card declined, 402, too); a request refused by validation (other 4xx) is not saved.
  if (slot && (reply.status < 400 || reply.status === 402 || reply.status >= 500))
    ctx.store.idempotency.set(slot, { endpoint, params: fingerprint, status: reply.status, body: reply.body, requestId });
  return reply;
}

function faultReply(status: Exclude<FaultStatus, 'timeout'>): Reply {
  if (status === 429)
    return json(429, {
      error: {
        type: 'invalid_request_error',
        code: 'rate_limit',
        message: 'Too many requests hit the API too quickly (injected by the sandbox fault knob).',
      },
    });
  if (status === 400)
    return json(400, {
      error: {
        type: 'invalid_request_error',
        code: 'parameter_unknown',
        param: 'injected',
        message: 'Received unknown parameter: injected (injected by the sandbox fault knob).',
      },
    });
  if (status === 403)
    return json(403, {
      error: {
        type: 'invalid_request_error',
        code: 'account_invalid',
        message:
          'The provided key does not have access to account (injected by the sandbox fault knob). Application access may have been revoked.',
      },
    });
  return json(status, {
    error: { type: 'api_error', message: `The Stripe API is unavailable (HTTP ${status}, injected by the sandbox fault knob).` },
  });
}

const NO_KEY =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** Bearer or Basic (key as user name), as Stripe accepts; only the configured secret key passes. */
function authenticate(secretKey: string, authorization: string | undefined): void {
  let given: string | undefined;
  if (authorization?.startsWith('Bearer ')) given = authorization.slice(7).trim();
  else if (authorization?.startsWith('Basic '))
    given = Buffer.from(authorization.slice(6), 'base64').toString('utf8').split(':')[0];
  if (!given) throw new StripeApiError(401, { type: 'invalid_request_error', message: NO_KEY });
  const digest = (s: string) => createHash('sha256').update(s).digest();
  if (!timingSafeEqual(digest(given), digest(secretKey)))
    throw new StripeApiError(401, { type: 'invalid_request_error', message: `Invalid API Key provided: ${redactKey(given)}` });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function controlBody(req: IncomingMessage, body: string): ControlBody {
  if (!body) return {};
  if ((header(req, 'content-type') ?? '').includes('json')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as ControlBody;
    } catch {}
    throw invalidRequest('The body must be a JSON object.');
  }
  return { ...parseStripeForm(body) };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalidRequest('Request body too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
