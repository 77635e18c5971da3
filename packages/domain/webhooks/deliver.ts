import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { CheckedTarget } from './webhook-url';

/**
 * One webhook POST to a checked target. The socket goes to the pinned addresses only: the
 * request's `lookup` answers with them, so DNS is not asked again between the check and the
 * connection (no rebinding), while the Host header and TLS SNI/certificate check still use
 * the URL's host name. Redirects are never followed (node:http does not), the response is
 * read up to a small bound for the delivery log, and every way a receiver can misbehave ends
 * in a result, never a rejection (only header values node:http refuses, a caller bug, reject).
 */

export type DeliveryOutcome = 'success' | 'gone' | 'failure';

/** Why a delivery failed, for the delivery log and the retry decision (every failure is retried). */
export type DeliveryFailure =
  | 'http_status'
  | 'redirect'
  | 'connect_timeout'
  | 'timeout'
  | 'connection_failed'
  | 'connection_closed'
  | 'tls';

export interface DeliveryResult {
  /** `success`: any 2xx; `gone`: 410, disable the endpoint; `failure`: anything else, retry. */
  outcome: DeliveryOutcome;
  failure?: DeliveryFailure;
  statusCode?: number;
  /** Human reason for a failure (or for `gone`); never contains the request's headers. */
  error?: string;
  durationMs: number;
  /** The first `maxResponseBytes` of the response body, decoded as UTF-8. */
  responseSnippet: string;
  responseTruncated: boolean;
  /** The address the socket actually connected to. */
  remoteAddress?: string;
}

export interface PostWebhookInput {
  target: CheckedTarget;
  /** The signing headers (see signing.ts); content-type, content-length and user-agent are added. */
  headers: Readonly<Record<string, string>>;
  /** The exact JSON text that was signed. */
  body: string;
  /** Whole request, connection to last byte read. */
  timeoutMs?: number;
  /** TCP connection plus TLS handshake; at most `timeoutMs`. */
  connectTimeoutMs?: number;
  maxResponseBytes?: number;
  /** Trust anchors replacing the system's; only tests (a self-signed loopback receiver) set it. */
  ca?: string;
}

export const USER_AGENT = 'agency-accounts-webhooks/1';
const MAX_REASON_CHARS = 200;

export function postWebhook(input: PostWebhookInput): Promise<DeliveryResult> {
  const { target, body } = input;
  const timeoutMs = input.timeoutMs ?? 10_000;
  const connectTimeoutMs = Math.min(input.connectTimeoutMs ?? 5_000, timeoutMs);
  const maxBytes = input.maxResponseBytes ?? 4096;
  const started = performance.now();
  const client = target.url.protocol === 'https:' ? https : http;

  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let truncated = false;
    let statusCode: number | undefined;
    let remoteAddress: string | undefined;
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    let deadline: NodeJS.Timeout | undefined;

    const finish = (outcome: DeliveryOutcome, failure?: DeliveryFailure, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearTimeout(connectTimer);
      req.destroy();
      resolve({
        outcome,
        ...(failure && { failure }),
        ...(statusCode !== undefined && { statusCode }),
        ...(error && { error: error.slice(0, MAX_REASON_CHARS) }),
        durationMs: Math.round(performance.now() - started),
        responseSnippet: Buffer.concat(chunks).toString('utf8'),
        responseTruncated: truncated,
        ...(remoteAddress && { remoteAddress }),
      });
    };

    const req = client.request(target.url, {
      method: 'POST',
      agent: false, // a fresh connection per delivery: a pooled socket could belong to another pin
      lookup: pinnedLookup(target),
      headers: {
        'user-agent': USER_AGENT,
        'content-type': 'application/json',
        ...input.headers,
        'content-length': String(Buffer.byteLength(body)),
      },
      ...(input.ca !== undefined && { ca: input.ca }),
    });

    deadline = setTimeout(() => finish('failure', 'timeout', `no complete response within ${timeoutMs} ms`), timeoutMs);
    req.on('socket', (socket) => {
      connectTimer = setTimeout(
        () => finish('failure', 'connect_timeout', `not connected within ${connectTimeoutMs} ms`),
        connectTimeoutMs,
      );
      socket.once('connect', () => {
        remoteAddress = socket.remoteAddress;
      });
      socket.once(client === https ? 'secureConnect' : 'connect', () => clearTimeout(connectTimer));
    });
    req.on('error', (err: NodeJS.ErrnoException) => finish('failure', ...describeError(err, statusCode !== undefined)));

    req.on('response', (res) => {
      statusCode = res.statusCode ?? 0;
      const decide = () => {
        const code = statusCode as number;
        if (code >= 200 && code < 300) return finish('success');
        if (code === 410) return finish('gone', undefined, 'receiver answered 410 Gone');
        if (code >= 300 && code < 400) {
          const location = res.headers.location ? ` to ${res.headers.location}` : '';
          return finish('failure', 'redirect', `receiver answered ${code} redirect${location}; redirects are not followed`);
        }
        finish('failure', 'http_status', `receiver answered ${code}`);
      };
      res.on('data', (chunk: Buffer) => {
        const room = maxBytes - received;
        chunks.push(chunk.subarray(0, room));
        received += Math.min(room, chunk.length);
        if (chunk.length > room) {
          truncated = true;
          decide(); // enough for the log: stop reading, the status decides
        }
      });
      res.on('end', decide);
      res.on('error', () => {}); // reported by 'close' below
      res.on('close', () => {
        if (!res.complete)
          finish('failure', 'connection_closed', `connection closed before the response was complete (status ${statusCode})`);
      });
    });

    req.end(body);
  });
}

function describeError(err: NodeJS.ErrnoException, afterStatus: boolean): [DeliveryFailure, string] {
  const code = err.code ?? '';
  if (/^(ERR_TLS|ERR_SSL|CERT_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_)/.test(code) || /certificate|SSL|TLS/.test(err.message))
    return ['tls', `TLS failed: ${err.message}`];
  if (afterStatus || code === 'ECONNRESET' || code === 'EPIPE')
    return ['connection_closed', `connection closed before a complete response (${code || err.message})`];
  return ['connection_failed', `could not connect: ${code || err.message}`];
}

/** A `lookup` that answers only the target's host, and only with its checked addresses. */
function pinnedLookup(target: CheckedTarget): LookupFunction {
  return (hostname, options, callback) => {
    const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
    const addresses = target.addresses.filter((a) => !family || a.family === family);
    const first = addresses[0];
    if (hostname !== target.url.hostname || !first) {
      const err: NodeJS.ErrnoException = Object.assign(new Error(`no pinned address for ${hostname}`), { code: 'ENOTFOUND' });
      return callback(err, '', 0);
    }
    if (options.all)
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    else callback(null, first.address, first.family);
  };
}
