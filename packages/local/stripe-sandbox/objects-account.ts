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
