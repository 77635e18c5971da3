import type Stripe from 'stripe';
import { formatAmount } from './money';
import type { SessionRecord } from './store';

/**
 * The pages Stripe's URLs lead to, small enough to click through by hand: the Connect
 * onboarding page (an AccountLink's url) and the hosted Checkout page (a session's url).
 * Their buttons post to /sandbox/pages/…, which do what the control routes do and then
 * redirect as Stripe would (return_url, success_url).
 */

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;background:#f6f9fc;color:#1a1f36;margin:0;padding:2rem}
main{max-width:28rem;margin:auto;background:#fff;border-radius:8px;padding:1.5rem 2rem;box-shadow:0 2px 8px #0002}
.badge{display:inline-block;background:#ffde92;color:#663c00;font-size:.75rem;padding:.1rem .4rem;border-radius:4px}
.amount{font-size:2rem;font-weight:600;margin:.5rem 0}
form{margin:.5rem 0}button{width:100%;padding:.7rem;border:0;border-radius:6px;font-size:1rem;cursor:pointer;background:#635bff;color:#fff}
button.secondary{background:#e3e8ee;color:#1a1f36}.error{color:#df1b41;font-weight:600}
table{width:100%;border-collapse:collapse}td{padding:.25rem 0}td.r{text-align:right}
</style></head>
<body><main><p><span class="badge">TEST MODE · local Stripe sandbox</span></p>
${body}
</main></body></html>`;
}

const button = (action: string, label: string, secondary = false) =>
  `<form method="post" action="${esc(action)}"><button type="submit"${secondary ? ' class="secondary"' : ''}>${esc(label)}</button></form>`;

export function onboardingPage(account: Stripe.Account, action: string): string {
  const done = account.charges_enabled;
  return layout(
    'Stripe Connect onboarding',
    `<h1>Set up payments</h1>
<p>Connected account <code>${esc(account.id)}</code>${account.email ? ` (${esc(account.email)})` : ''}.</p>
<p>${done ? 'Onboarding is complete: charges and payouts are enabled.' : 'In the real flow the account holder enters business and bank details here. In the sandbox, one click completes it.'}</p>
${button(action, done ? 'Continue' : 'Complete onboarding')}`,
  );
}

export function onboardingDonePage(account: Stripe.Account): string {
  return layout(
    'Onboarding complete',
    `<h1>Onboarding complete</h1><p>Account <code>${esc(account.id)}</code> can now accept payments.</p>`,
  );
}

/** A setup-mode session's page: save a test card of one of the three kinds (api-customers.ts). */
function setupPage(rec: SessionRecord, merchant: string): string {
  const s = rec.object;
  const base = `/sandbox/pages/checkout/${encodeURIComponent(s.id)}/setup`;
  const back = s.cancel_url ? `<p><a href="${esc(s.cancel_url)}">← Back</a></p>` : '';
  const actions =
    s.status === 'open'
      ? `<p>Save a card for future payments to ${esc(merchant)}.</p>
${button(`${base}/success`, 'Save card 4242 (payments succeed)')}
${button(`${base}/decline`, 'Save card 0002 (payments are declined)', true)}
${button(`${base}/authentication_required`, 'Save card 3155 (payments need authentication)', true)}`
      : s.status === 'complete'
        ? '<p>Your card is saved.</p>'
        : '<p>This Checkout Session has expired.</p>';
  return layout(
    `Save a card for ${merchant}`,
    `${back}<h1>Save a card</h1><p><small>Session <code>${esc(s.id)}</code></small></p>${actions}`,
  );
}

export function checkoutPage(rec: SessionRecord, opts: { merchant: string; error?: string }): string {
  if (rec.object.mode === 'setup') return setupPage(rec, opts.merchant);
  const s = rec.object;
  const currency = s.currency ?? 'usd';
  const total = formatAmount(s.amount_total ?? 0, currency);
  const base = `/sandbox/pages/checkout/${encodeURIComponent(s.id)}`;
  const lines = rec.lineItems
    .map((l) => `<tr><td>${esc(l.name)} × ${l.quantity}</td><td class="r">${esc(formatAmount(l.amount, currency))}</td></tr>`)
    .join('');
  const back = s.cancel_url ? `<p><a href="${esc(s.cancel_url)}">← Back</a></p>` : '';
  let actions: string;
  if (s.status === 'open')
    actions = `${opts.error ? `<p class="error" role="alert">${esc(opts.error)}</p>` : ''}
${button(`${base}/pay`, 'Pay')}
${button(`${base}/decline`, 'Decline')}
<p>For testing (bank debits that settle later, and expiry):</p>
${button(`${base}/pay_async_success`, 'Pay (async success)', true)}
${button(`${base}/pay_async_failure`, 'Pay (async failure)', true)}
${button(`${base}/expire`, 'Expire', true)}`;
  else if (s.status === 'complete')
    actions = `<p>${s.payment_status === 'paid' ? 'This payment is complete. Thank you!' : 'Your payment is processing.'}</p>`;
  else actions = '<p>This Checkout Session has expired.</p>';
  return layout(
    `Pay ${opts.merchant}`,
    `${back}<p>${esc(opts.merchant)}</p>
<div class="amount">${esc(total)} <small>${esc(currency.toUpperCase())}</small></div>
<table>${lines}</table>
<p><small>Session <code>${esc(s.id)}</code></small></p>
${actions}`,
  );
}
