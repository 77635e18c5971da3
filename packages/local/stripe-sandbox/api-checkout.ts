import type Stripe from 'stripe';
import type { ApiContext, ApiRequest } from './api-context';
import { invalidRequest } from './errors';
import { expand } from './expand';
import { expireIfDue, expireSession } from './flows';
import { newId, nowSeconds } from './ids';
import { DECIMAL_RE, formatAmount, lineAmount, MAXIMUM_AMOUNT, minimumCharge } from './money';
import { buildCheckoutSession } from './objects-checkout';
import type { Params } from './params';
import type { LineItem } from './store';

function readLineItem(item: Params): LineItem {
  const price = item.obj('price_data');
  if (!price && item.has('price')) item.unknown('price'); // Prices (price_…) are not modelled: price_data only
  if (!price) throw invalidRequest('Missing required param: price_data.', `${item.path}[price_data]`, 'parameter_missing');
  const currency = price.str('currency', { required: true }).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidRequest(`Invalid currency: ${currency}`, `${price.path}[currency]`);
  const product = price.obj('product_data');
  if (!product) throw invalidRequest('Missing required param: product_data.', `${price.path}[product_data]`, 'parameter_missing');
  const name = product.str('name', { required: true, max: 250 });
  const description = product.str('description', { max: 40_000 }) ?? null;
  const unitAmount = price.int('unit_amount', { min: 0, max: MAXIMUM_AMOUNT });
  const decimal = price.str('unit_amount_decimal');
  if (unitAmount !== undefined && decimal !== undefined)
    throw invalidRequest(
      'You may only specify one of these parameters: unit_amount, unit_amount_decimal.',
      `${price.path}[unit_amount_decimal]`,
      'parameters_exclusive',
    );
  if (unitAmount === undefined && decimal === undefined)
    throw invalidRequest('Missing required param: unit_amount.', `${price.path}[unit_amount]`, 'parameter_missing');
  if (decimal !== undefined && !DECIMAL_RE.test(decimal))
    throw invalidRequest(`Invalid decimal: ${decimal}`, `${price.path}[unit_amount_decimal]`, 'parameter_invalid_decimal');
  const quantity = item.int('quantity', { min: 1, max: 999_999 });
  if (quantity === undefined)
    throw invalidRequest(
      `Quantity is required. Add \`quantity\` to \`${item.path}\``,
      `${item.path}[quantity]`,
      'parameter_missing',
    );
  const unit = unitAmount !== undefined ? { amount: unitAmount } : { decimal: decimal as string };
  return { name, description, currency, quantity, unit, amount: lineAmount(unit, quantity) };
}

/**
 * POST /v1/checkout/sessions, mode=payment with price_data line items: validated as Stripe
 * does (amounts, one currency, its minimum charge, expires_at 30 min–24 h ahead, an
 * application fee only on a connected account), stored in the caller's account.
 */
export function createSession(ctx: ApiContext, req: ApiRequest, p: Params): Stripe.Checkout.Session {
  const mode = p.oneOf('mode', ['payment', 'setup', 'subscription'] as const, { required: true });
  if (mode === 'subscription') throw invalidRequest('The local Stripe sandbox models only mode=payment and mode=setup.', 'mode');
  const customer = p.str('customer') ?? null;
  if (customer !== null && ctx.store.customers.get(customer)?.scope !== req.scope)
    throw invalidRequest(`No such customer: '${customer}'`, 'customer', 'resource_missing');
  if (mode === 'setup') return createSetupSession(ctx, req, p, customer);
  const items = p.list('line_items').map(readLineItem);
  if (!items.length) throw invalidRequest('Missing required param: line_items.', 'line_items', 'parameter_missing');
  const currency = (items[0] as LineItem).currency;
  if (items.some((i) => i.currency !== currency))
    throw invalidRequest('All line items must use the same currency.', 'line_items');
  const intentParams = p.obj('payment_intent_data');
  const fee = intentParams?.int('application_fee_amount', { min: 0 });
  const intentMetadata = intentParams?.metadata('metadata') ?? {};
  const intentDescription = intentParams?.str('description', { max: 1000 }) ?? null;
  const clientReferenceId = p.str('client_reference_id', { max: 200 }) ?? null;
  const metadata = p.metadata('metadata');
  const successUrl = p.url('success_url') ?? null;
  const cancelUrl = p.url('cancel_url') ?? null;
  const customerEmail = p.str('customer_email', { max: 800 }) ?? null;
  if (customerEmail !== null && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(customerEmail))
    throw invalidRequest(`Invalid email address: ${customerEmail}`, 'customer_email', 'email_invalid');
  const created = nowSeconds();
  const expiresAt = p.int('expires_at') ?? created + 24 * 3600;
  const paths = p.expand();
  p.done();

  if (expiresAt < created + 30 * 60)
    throw invalidRequest('The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.', 'expires_at');
  if (expiresAt > created + 24 * 3600)
    throw invalidRequest('The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.', 'expires_at');
  const total = items.reduce((sum, i) => sum + i.amount, 0);
  const minimum = minimumCharge(currency);
  if (minimum !== undefined && total < minimum)
    throw invalidRequest(
      `The Checkout Session's total amount due must add up to at least ${formatAmount(minimum, currency)} ${currency}`,
      'line_items',
      'amount_too_small',
    );
  if (total > MAXIMUM_AMOUNT)
    throw invalidRequest(
      `The total amount must be no more than ${formatAmount(MAXIMUM_AMOUNT, currency)}.`,
      'line_items',
      'amount_too_large',
    );
  if (fee !== undefined && !req.scope)
    throw invalidRequest(
      'Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment (using an OAuth key or Stripe-Account header) or destination payment (using `transfer_data[destination]`).',
      'payment_intent_data[application_fee_amount]',
    );
  if (fee !== undefined && fee > total)
    throw invalidRequest(
      'The application fee amount cannot be greater than the amount of the payment.',
      'payment_intent_data[application_fee_amount]',
    );
  if (req.scope && !ctx.store.account(req.scope).charges_enabled)
    throw invalidRequest(
      `Your account cannot currently make charges. To find out why charge creation is currently disabled, look at the \`requirements.disabled_reason\` property on this account (/v1/accounts/${req.scope}).`,
      undefined,
      'account_invalid',
    );

  const id = newId('cs_test', 58);
  const session = buildCheckoutSession({
    id,
    url: `${ctx.baseUrl}/sandbox/pages/checkout/${id}`,
    currency,
    amountTotal: total,
    created,
    expiresAt,
    successUrl,
    cancelUrl,
    clientReferenceId,
    customerEmail,
    metadata,
  });
  session.customer = customer;
  ctx.store.sessions.set(id, {
    scope: req.scope,
    object: session,
    lineItems: items,
    intentData: { applicationFeeAmount: fee ?? null, metadata: intentMetadata, description: intentDescription },
  });
  return expand(ctx.store, req.scope, session, paths);
}

/** mode=setup: saves a card for `customer` (required); no line items, nothing charged (api-customers.ts completes it). */
function createSetupSession(ctx: ApiContext, req: ApiRequest, p: Params, customer: string | null): Stripe.Checkout.Session {
  const currency = p.str('currency')?.toLowerCase() ?? null;
  const clientReferenceId = p.str('client_reference_id', { max: 200 }) ?? null;
  const metadata = p.metadata('metadata');
  const successUrl = p.url('success_url') ?? null;
  const cancelUrl = p.url('cancel_url') ?? null;
  const created = nowSeconds();
  const expiresAt = p.int('expires_at') ?? created + 24 * 3600;
  const paths = p.expand();
  p.done();
  if (!customer) throw invalidRequest('A Checkout Session in setup mode needs a customer here.', 'customer', 'parameter_missing');
  const id = newId('cs_test', 58);
  const session = buildCheckoutSession({
    id,
    url: `${ctx.baseUrl}/sandbox/pages/checkout/${id}`,
    currency: currency ?? 'usd',
    amountTotal: 0,
    created,
    expiresAt,
    successUrl,
    cancelUrl,
    clientReferenceId,
    customerEmail: null,
    metadata,
  });
  Object.assign(session, {
    mode: 'setup',
    currency,
    amount_total: null,
    amount_subtotal: null,
    customer,
    payment_status: 'no_payment_required',
  } satisfies Partial<Stripe.Checkout.Session>);
  ctx.store.sessions.set(id, {
    scope: req.scope,
    object: session,
    lineItems: [],
    intentData: { applicationFeeAmount: null, metadata: {}, description: null },
  });
  return expand(ctx.store, req.scope, session, paths);
}

export function retrieveSession(ctx: ApiContext, req: ApiRequest, p: Params, id: string): Stripe.Checkout.Session {
  const paths = p.expand();
  p.done();
  const rec = ctx.store.session(id, req.scope);
  expireIfDue(ctx, rec);
  return expand(ctx.store, req.scope, rec.object, paths);
}

export function expireSessionRoute(ctx: ApiContext, req: ApiRequest, p: Params, id: string): Stripe.Checkout.Session {
  const paths = p.expand();
  p.done();
  const rec = ctx.store.session(id, req.scope);
  expireIfDue(ctx, rec);
  const session = expireSession(ctx, rec, { id: req.requestId, idempotency_key: req.idempotencyKey });
  return expand(ctx.store, req.scope, session, paths);
}
