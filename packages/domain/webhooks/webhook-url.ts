import { lookup } from 'node:dns/promises';
import { type AddressRefusal, checkIp, type IpAddress, isLoopback, parseIp } from './address-rules';

/**
 * The agency's auto-recharge webhook URL: `checkWebhookUrl` when it is saved (syntax, scheme,
 * literal addresses), `resolveAndCheck` when it is saved and again before every delivery (every
 * address the name resolves to must pass, and those addresses are pinned: `postWebhook`
 * connects to them and never asks DNS again, so a rebinding answer cannot swap the target).
 */

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** Stable codes for 400 `invalid_webhook_url`; `address` carries the address rule that refused. */
export type WebhookUrlReason =
  | 'malformed'
  | 'too_long'
  | 'scheme'
  | 'credentials'
  | 'fragment'
  | 'port'
  | 'hostname'
  | 'address'
  | 'resolution_failed';

export interface WebhookUrlProblem {
  reason: WebhookUrlReason;
  /** Safe to show to the agency; never echoes credentials. */
  message: string;
  /** When `reason` is `address`: which address rule refused, and the address. */
  address?: { refusal: AddressRefusal; address: string };
}

export interface WebhookUrlOptions {
  /**
   * Lets `http://` and `https://` reach 127.0.0.1, [::1] and localhost (nothing else on
   * loopback). Only the local runtime (`npm start`) and tests set it; deployed code never does.
   */
  allowLoopbackHttp?: boolean;
}

export type UrlCheck = { ok: true; url: URL } | { ok: false; problem: WebhookUrlProblem };

// RFC 6761/6762/8375/9476 special-use names: they never name a host on the public internet,
// and some (`.internal`, `.local`) name exactly the hosts we must not reach.
const specialUseSuffixes = [
  'localhost',
  'local',
  'internal',
  'localdomain',
  'home.arpa',
  'invalid',
  'test',
  'example',
  'onion',
  'alt',
];
const label = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

const fail = (
  reason: WebhookUrlReason,
  message: string,
  address?: WebhookUrlProblem['address'],
): { ok: false; problem: WebhookUrlProblem } => ({
  ok: false,
  problem: address ? { reason, message, address } : { reason, message },
});

/** Syntax and literal checks, no I/O. Fragments are refused (never sent, so one is a mistake), not stripped. */
export function checkWebhookUrl(input: string, options: WebhookUrlOptions = {}): UrlCheck {
  if (input.length > MAX_WEBHOOK_URL_LENGTH) return fail('too_long', `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return fail('malformed', 'is not a valid absolute URL');
  }
  // Punycode can lengthen what was typed; the stored form is the normalized one.
  if (url.href.length > MAX_WEBHOOK_URL_LENGTH) return fail('too_long', `must be at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  const loopbackAllowed = options.allowLoopbackHttp === true && loopbackHosts.has(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopbackAllowed)) return fail('scheme', 'must use https');
  if (url.username || url.password) return fail('credentials', 'must not contain a user name or password');
  if (input.includes('#')) return fail('fragment', 'must not contain a fragment (#…)');
  if (url.port === '0') return fail('port', 'must not use port 0');
  if (loopbackAllowed) return { ok: true, url };

  const ip = literalIp(url);
  if (ip) {
    const verdict = checkIp(ip);
    return verdict.allowed
      ? { ok: true, url }
      : fail('address', `host ${verdict.message}`, { refusal: verdict.reason, address: ip.text });
  }
  const host = url.hostname;
  if (host.endsWith('.')) return fail('hostname', 'host must not end with a dot');
  const labels = host.split('.');
  if (host.length > 253 || !labels.every((l) => label.test(l))) return fail('hostname', 'host is not a valid DNS name');
  if (labels.length < 2) return fail('hostname', 'host must be a fully qualified domain name');
  const special = specialUseSuffixes.find((s) => host === s || host.endsWith(`.${s}`));
  if (special) return fail('hostname', `host is under the special-use name .${special}, not on the public internet`);
  return { ok: true, url };
}

/** The URL's host as an IP address when it is a literal one (WHATWG has already normalized odd v4 spellings). */
function literalIp(url: URL): IpAddress | undefined {
  return url.hostname.startsWith('[') || /^[0-9.]+$/.test(url.hostname) ? parseIp(url.hostname) : undefined;
}

export interface PinnedAddress {
  address: string;
  family: 4 | 6;
}

declare const checkedTarget: unique symbol;

/**
 * A URL with the addresses it was checked against; `postWebhook` takes only this, so a delivery
 * cannot skip the check. `addresses` is non-empty, in the resolver's order.
 */
export type CheckedTarget = {
  readonly url: URL;
  readonly addresses: readonly [PinnedAddress, ...PinnedAddress[]];
} & { readonly [checkedTarget]: true };

/** Answers every address of a host name; rejects (with an errno `code`) when it cannot. */
export type Resolver = (hostname: string) => Promise<readonly { address: string; family: number }[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), every address, in its order. */
export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true, verbatim: true });

export interface ResolveOptions extends WebhookUrlOptions {
  resolver?: Resolver;
  /** Resolution taking longer counts as failed. */
  timeoutMs?: number;
}

export type TargetCheck = { ok: true; target: CheckedTarget } | { ok: false; problem: WebhookUrlProblem };

/**
 * `checkWebhookUrl`, then the addresses to connect to: a literal host is its own address;
 * a name is resolved and refused if ANY answer is refused (an attacker's name may answer one
 * public and one private address and let the client pick).
 */
export async function resolveAndCheck(input: string | URL, options: ResolveOptions = {}): Promise<TargetCheck> {
  const checked = checkWebhookUrl(typeof input === 'string' ? input : input.href, options);
  if (!checked.ok) return checked;
  const { url } = checked;
  const literal = literalIp(url);
  if (literal) return { ok: true, target: pin(url, [literal]) };

  let answers: readonly { address: string; family: number }[];
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { code: 'ETIMEOUT' })), options.timeoutMs ?? 5000);
    });
    answers = await Promise.race([(options.resolver ?? systemResolver)(url.hostname), timeout]);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    return fail('resolution_failed', `host ${url.hostname} could not be resolved${typeof code === 'string' ? ` (${code})` : ''}`);
  } finally {
    clearTimeout(timer);
  }
  if (answers.length === 0) return fail('resolution_failed', `host ${url.hostname} has no addresses`);

  const ips: IpAddress[] = [];
  for (const answer of answers) {
    const ip = parseIp(answer.address);
    if (!ip) return fail('resolution_failed', `host ${url.hostname} resolved to an unusable answer`);
    // The local runtime's localhost must really be loopback; every other name must pass the rules.
    if (url.hostname === 'localhost' && options.allowLoopbackHttp) {
      if (!isLoopback(ip)) return fail('hostname', `localhost resolved to ${ip.text}, not a loopback address`);
    } else {
      const verdict = checkIp(ip);
      if (!verdict.allowed)
        return fail('address', `host ${url.hostname} resolves to ${verdict.message}`, {
          refusal: verdict.reason,
          address: ip.text,
        });
    }
    ips.push(ip);
  }
  return { ok: true, target: pin(url, ips) };
}

function pin(url: URL, ips: IpAddress[]): CheckedTarget {
  const addresses = ips.map((ip) => ({ address: ip.text, family: ip.family })) as [PinnedAddress, ...PinnedAddress[]];
  return { url, addresses } as unknown as CheckedTarget;
}
