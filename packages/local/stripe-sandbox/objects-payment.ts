import type Stripe from 'stripe';
import { newId } from './ids';

/** PaymentIntents, Charges and Refunds, typed with the SDK's types (see objects-account.ts). */
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
