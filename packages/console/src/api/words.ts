import { ApiError, type Problem } from './client';

/** What a person should read for each refusal: what happened, and for 402/409 what to do next. */
const words: Partial<Record<Problem['code'], string>> = {
  invalid_request: 'Some details need fixing.',
  invalid_webhook_url: 'We cannot send webhooks to that address: see the message under it.',
  no_payment_method: 'Save a card first: auto top-up charges the saved card.',
  recharge_request_closed: 'This recharge request was already fulfilled or has expired: nothing more to do for it.',
  unauthenticated: 'That email and password do not match an account.',
  insufficient_credits: 'There are not enough credits for this. Top up or buy credits, then try again.',
  credit_limit_reached:
    'This sub-account reached its monthly credit limit. Raise the limit in Edit Sub Account, or wait for next month.',
  forbidden: 'Your account is not allowed to do this.',
  feature_not_available: "Your plan does not include this feature. Remove it, or upgrade the agency's plan.",
  feature_not_enabled: 'This feature is not enabled for this account.',
  email_not_verified: 'Confirm your email address first: follow the link we emailed you, then try again.',
  quota_exceeded: 'You have reached the number of sub-accounts your plan allows.',
  not_found: 'This no longer exists, or you cannot see it.',
  email_taken: 'This email is already registered. Use another email, or sign in with it.',
  idempotency_key_reused: 'This was already submitted with other details. Reload the page and submit again.',
  conflict: 'Someone changed this at the same time. Reload it, check the details and save again.',
  account_closed: 'This sub-account is closed. Choose an active one.',
  wrong_credit_mode:
    'This needs the sub-account in reselling mode. Switch its credit management mode to reselling in Edit Sub Account first.',
  balance_limit_exceeded: 'That would take the balance over its maximum. Use a smaller amount.',
  reselling_not_ready:
    'Buying credits is not available right now: the agency must connect Stripe (again) and set its prices. Ask your agency.',
  price_below_minimum: 'The price is below the platform minimum.',
  amount_too_small: 'That amount is below the smallest charge the payment provider accepts. Choose more credits.',
  throttled: 'Too many requests just now. Wait a moment and try again.',
  too_many_attempts: 'Too many attempts. Wait a few minutes, then try again.',
  payload_too_large: 'That is too large to send.',
  payment_provider_error: 'The payment provider refused this purchase. Nothing was charged; please tell your agency.',
};

/** The sentence shown at the top of a form or panel for an error. */
export function errorSentence(err: unknown): string {
  if (!(err instanceof ApiError)) return 'Something went wrong in the console. Reload the page.';
  if (err.status === 0) return 'Could not reach the server. Check your connection and try again.';
  const p = err.problem;
  // A 502 payment_provider_error is a refusal to read, not an outage to retry.
  if (err.status >= 500 && p?.code !== 'payment_provider_error')
    return 'The server could not finish this just now. Nothing was lost: try again.';
  if (p?.code === 'price_below_minimum' && p.minimum)
    return `The price is below the platform minimum of ${p.minimum} (minor units of ${(p.currency ?? '').toUpperCase()}) per credit. Set it at or above the minimum.`;
  if (p?.code === 'too_many_attempts' && err.retryAfterSeconds)
    return `Too many attempts. Try again in ${Math.ceil(err.retryAfterSeconds / 60)} minute(s).`;
  return (p && words[p.code]) ?? p?.detail ?? 'The request was refused.';
}

/** Field-level messages from problem JSON `errors`, keyed by the field's dotted path. */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!(err instanceof ApiError)) return out;
  for (const e of err.problem?.errors ?? []) out[e.field] = plainField(e.message);
  const p = err.problem;
  if (p?.code === 'no_payment_method') out.enabled = 'Save a card first (above), then turn auto top-up on.';
  if (p?.code === 'email_taken') out.email = 'This email is already registered.';
  if (p?.code === 'price_below_minimum' && p.minimum) out.perCreditPrice ??= `At least ${p.minimum}`;
  if (p?.code === 'invalid_webhook_url') out.url = webhookUrlWords[p.reason ?? ''] ?? out.url ?? 'We cannot use this address.';
  return out;
}

/** 400 invalid_webhook_url by its `reason` (packages/domain/webhooks/webhook-url.ts), in words with what to do. */
const webhookUrlWords: Record<string, string> = {
  malformed: 'Enter a full web address, like https://billing.example.com/recharge.',
  too_long: 'This address is too long: use one of at most 2,048 characters.',
  scheme: 'Use an address that starts with https:// (we only send webhooks over a secure connection).',
  credentials: 'Remove the user name and password from the address: the signing secret proves the webhook is ours.',
  fragment: 'Remove the part after # from the address.',
  port: 'Use a valid port number, or none.',
  hostname: "Use your server's public domain name, like billing.example.com (not a local or internal name).",
  address:
    'This address is on a private or internal network, which we never call. Use an address your server has on the public internet.',
  resolution_failed: 'We could not find this domain name. Check its spelling, and that it is published in public DNS.',
};

/** zod's messages made readable: "Too small: expected string to have >=10 characters" → "Must be at least 10 characters". */
function plainField(message: string): string {
  if (message === 'does not match') return 'This is not your current password';
  if (message === 'must differ from the current password') return 'Choose a password different from the current one';
  const min = /expected string to have >=(\d+) characters/.exec(message);
  if (min) return `Must be at least ${min[1]} characters`;
  const max = /expected string to have <=(\d+) characters/.exec(message);
  if (max) return `Must be at most ${max[1]} characters`;
  const minItems = /expected array to have >=(\d+) items?/.exec(message);
  if (minItems) return minItems[1] === '1' ? 'Choose at least one' : `Choose at least ${minItems[1]}`;
  if (/Invalid email/i.test(message)) return 'Enter a valid email address';
  if (/Invalid URL|url/i.test(message)) return 'Enter a full web address starting with https://';
  if (/expected number, received NaN|Invalid input: expected number/i.test(message)) return 'Enter a number';
  const gte = /expected number to be >=(\d+)/.exec(message);
  if (gte) return `Must be ${gte[1]} or more`;
  const lte = /expected number to be <=(\d+)/.exec(message);
  if (lte) return `Must be ${lte[1]} or less`;
  return message.charAt(0).toUpperCase() + message.slice(1);
}
