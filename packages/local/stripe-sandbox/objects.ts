import type Stripe from 'stripe';
import { newId } from './ids';

/**
 * Builders of the objects the sandbox returns, each typed with the SDK's own type, so a
 * field Stripe requires and we forget, or a value of the wrong shape, fails `tsc`; the
 * shapes cannot drift from the installed `stripe` package. Values are those of a fresh
 * test-mode object at Stripe; fields the platform never reads are left at Stripe's
 * "nothing here" values (null, [], {}).
 */

const ONBOARDING_DUE = [
  'business_profile.mcc',
  'business_profile.url',
  'business_type',
  'external_account',
  'representative.first_name',
  'representative.last_name',
  'tos_acceptance.date',
  'tos_acceptance.ip',
];

const EU = new Set('at be bg cy cz de dk ee es fi fr gr hr hu ie it lt lu lv mt nl pl pt ro se si sk'.split(' '));
function defaultCurrency(country: string): string {
  const c = country.toLowerCase();
  if (c === 'us') return 'usd';
  if (c === 'gb') return 'gbp';
  if (c === 'ca') return 'cad';
  if (c === 'au') return 'aud';
  return EU.has(c) && !['bg', 'cz', 'dk', 'hu', 'pl', 'ro', 'se'].includes(c) ? 'eur' : 'usd';
}

export interface AccountInput {
  type: Stripe.Account.Type;
  controller: Stripe.Account.Controller;
  country: string;
  email: string | null;
  metadata: Record<string, string>;
  capabilities: string[];
  businessName: string | null;
  businessUrl: string | null;
  created: number;
}

export function buildAccount(input: AccountInput): Stripe.Account {
  const id = newId('acct', 16);
  const requirements = (due: string[]): Stripe.Account.Requirements => ({
    alternatives: [],
    current_deadline: null,
    currently_due: due,
    disabled_reason: due.length ? 'requirements.past_due' : null,
    errors: [],
    eventually_due: due,
    past_due: due,
    pending_verification: [],
  });
  return {
    id,
    object: 'account',
    business_profile: {
      mcc: null,
      minority_owned_business_designation: null,
      name: input.businessName,
      specified_commercial_transactions_act_url: null,
      support_address: null,
      support_email: null,
      support_phone: null,
      support_url: null,
      url: input.businessUrl,
    },
    business_type: null,
    capabilities: Object.fromEntries(input.capabilities.map((c) => [c, 'inactive'])),
    charges_enabled: false,
    controller: input.controller,
    country: input.country.toUpperCase(),
    created: input.created,
    default_currency: defaultCurrency(input.country),
    details_submitted: false,
    email: input.email,
    external_accounts: { object: 'list', data: [], has_more: false, url: `/v1/accounts/${id}/external_accounts` },
    future_requirements: { ...requirements([]), disabled_reason: null },
    metadata: input.metadata,
    payouts_enabled: false,
    requirements: requirements(ONBOARDING_DUE),
    tos_acceptance: { date: null, ip: null, user_agent: null },
    type: input.type,
  };
}

/** What completing onboarding changes: the fields `account.updated` reports in previous_attributes. */
export function onboardedFields(account: Stripe.Account, now: number): Partial<Stripe.Account> {
  const capabilities = Object.fromEntries(Object.keys(account.capabilities ?? {}).map((c) => [c, 'active']));
  return {
    business_type: account.business_type ?? 'individual',
    capabilities,
    charges_enabled: true,
    details_submitted: true,
    payouts_enabled: true,
    requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [],
      disabled_reason: null,
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
    },
    tos_acceptance: { date: now, ip: '127.0.0.1', user_agent: 'stripe-sandbox' },
  };
}

export function buildAccountLink(url: string, created: number): Stripe.AccountLink {
  // Stripe's links expire after a few minutes and work once.
  return { object: 'account_link', created, expires_at: created + 300, url };
}

export interface SessionInput {
  id: string;
  url: string;
  currency: string;
  amountTotal: number;
  created: number;
  expiresAt: number;
  successUrl: string | null;
  cancelUrl: string | null;
  clientReferenceId: string | null;
  customerEmail: string | null;
  metadata: Record<string, string>;
}

export function buildCheckoutSession(s: SessionInput): Stripe.Checkout.Session {
  return {
    id: s.id,
    object: 'checkout.session',
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: s.amountTotal,
    amount_total: s.amountTotal,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: s.cancelUrl,
    client_reference_id: s.clientReferenceId,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: s.created,
    currency: s.currency,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_account: null,
    customer_creation: 'if_required',
    customer_details: s.customerEmail
      ? {
          address: null,
          business_name: null,
          email: s.customerEmail,
          individual_name: null,
          name: null,
          phone: null,
          tax_exempt: 'none',
          tax_ids: null,
        }
      : null,
    customer_email: s.customerEmail,
    discounts: [],
    expires_at: s.expiresAt,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: s.metadata,
    mode: 'payment',
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: 'if_required',
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_status: 'unpaid',
    permissions: null,
    phone_number_collection: { enabled: false },
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'open',
    submit_type: null,
    subscription: null,
    success_url: s.successUrl,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: 'hosted_page',
    url: s.url,
    wallet_options: null,
  };
}

export interface IntentInput {
  amount: number;
  currency: string;
  applicationFeeAmount: number | null;
  metadata: Record<string, string>;
  description: string | null;
  receiptEmail: string | null;
  created: number;
}

export function buildPaymentIntent(p: IntentInput): Stripe.PaymentIntent {
  const id = newId('pi');
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: p.amount,
    amount_capturable: 0,
    amount_received: 0,
    application: null,
    application_fee_amount: p.applicationFeeAmount,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${id}_secret_${newId('s').slice(2)}`,
    confirmation_method: 'automatic',
    created: p.created,
    currency: p.currency,
    customer: null,
    customer_account: null,
    description: p.description,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: p.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: p.receiptEmail,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_group: null,
  };
}

/** How the simulated customer pays: a test card (4242… succeeds, 0002 declines) or a bank debit that settles later. */
export type PaymentMethodKind = 'card' | 'card_declined' | 'sepa_debit';

function paymentMethodDetails(kind: PaymentMethodKind): Stripe.Charge.PaymentMethodDetails {
  if (kind === 'sepa_debit')
    return {
      type: 'sepa_debit',
      sepa_debit: {
        bank_code: '37040044',
        branch_code: null,
        country: 'DE',
        fingerprint: null,
        last4: '3000',
        mandate: newId('mandate'),
      },
    };
  return {
    type: 'card',
    card: {
      amount_authorized: null,
      authorization_code: null,
      brand: 'visa',
      checks: null,
      country: 'US',
      electronic_commerce_indicator: null,
      exp_month: 12,
      exp_year: new Date().getUTCFullYear() + 3,
      funding: 'credit',
      installments: null,
      last4: kind === 'card_declined' ? '0002' : '4242',
      mandate: null,
      network: 'visa',
      network_transaction_id: null,
      regulated_status: 'unregulated',
      three_d_secure: null,
      transaction_link_id: null,
      wallet: null,
    },
  };
}

export type ChargeState = 'succeeded' | 'pending' | 'failed';

export function buildCharge(
  intent: Stripe.PaymentIntent,
  kind: PaymentMethodKind,
  state: ChargeState,
  email: string | null,
  created: number,
): Stripe.Charge {
  const declined = state === 'failed';
  const paymentMethod = newId('pm');
  return {
    id: newId('ch'),
    object: 'charge',
    amount: intent.amount,
    amount_captured: state === 'succeeded' ? intent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: state === 'succeeded' && intent.application_fee_amount !== null ? newId('fee') : null,
    application_fee_amount: intent.application_fee_amount,
    balance_transaction: state === 'succeeded' ? newId('txn') : null,
    billing_details: { address: null, email, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'SANDBOX',
    captured: state === 'succeeded',
    created,
    currency: intent.currency,
    customer: null,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: declined ? 'card_declined' : null,
    failure_message: declined ? 'Your card was declined.' : null,
    fraud_details: {},
    livemode: false,
    metadata: { ...intent.metadata },
    on_behalf_of: null,
    outcome: declined
      ? {
          advice_code: 'try_again_later',
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'declined_by_network',
          reason: 'generic_decline',
          risk_level: 'normal',
          seller_message: 'The bank did not return any further details with this decline.',
          type: 'issuer_declined',
        }
      : {
          advice_code: null,
          network_advice_code: null,
          network_decline_code: null,
          network_status: 'approved_by_network',
          reason: null,
          risk_level: 'normal',
          seller_message: 'Payment complete.',
          type: 'authorized',
        },
    paid: state === 'succeeded',
    payment_intent: intent.id,
    payment_method: paymentMethod,
    payment_method_details: paymentMethodDetails(kind),
    receipt_email: email,
    receipt_number: null,
    receipt_url: null,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: state,
    transfer_data: null,
    transfer_group: null,
  };
}

export function buildRefund(
  charge: Stripe.Charge,
  amount: number,
  reason: Stripe.Refund.Reason | null,
  metadata: Record<string, string>,
  created: number,
): Stripe.Refund {
  return {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: newId('txn'),
    charge: charge.id,
    created,
    currency: charge.currency,
    customer: null,
    customer_account: null,
    metadata,
    payment_intent: typeof charge.payment_intent === 'string' ? charge.payment_intent : (charge.payment_intent?.id ?? null),
    payment_method: charge.payment_method,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
}
