import { useMutation, useQuery } from '@tanstack/react-query';
import { api, call, type Schemas } from '../../api/client';
import { FormError, Loaded, Section } from '../../ui';
import { RechargeWebhook } from '../webhooks/recharge-webhook';
import { CreditDashboard } from './credit-dashboard';
import { PricingForm } from './pricing-form';
import { resellingKeys } from './queries';

/** Agency reselling settings: connect Stripe, pricing, the auto-recharge webhook, and the Sub-Account Credit Dashboard. */
export function Reselling() {
  const settings = useQuery({ queryKey: resellingKeys.settings, queryFn: () => call(api.GET('/v1/reselling/settings')) });
  return (
    <>
      <h1>Reselling</h1>
      <Loaded query={settings} label="reselling settings">
        {(s) => (
          <>
            <StripeSection stripe={s.stripe} />
            <PricingForm settings={s} />
            <RechargeWebhook />
            <CreditDashboard />
          </>
        )}
      </Loaded>
    </>
  );
}

function StripeSection({ stripe }: { stripe: Schemas['ResellingSettings']['stripe'] }) {
  const connect = useMutation({
    mutationFn: () => call(api.POST('/v1/reselling/stripe/connect')),
    // Stripe's onboarding (the sandbox locally) sends the browser back to /reselling/stripe/return.
    onSuccess: (r) => window.location.assign(r.onboardingUrl),
  });
  return (
    <Section title="Stripe">
      <p data-testid="stripe-status">
        {!stripe && 'Not connected. Connect a Stripe account to take payments from your sub-accounts.'}
        {stripe &&
          !stripe.chargesEnabled &&
          `Connected (${stripe.accountId}), but Stripe cannot take payments yet: finish onboarding.`}
        {stripe?.chargesEnabled && `Connected (${stripe.accountId}): ready to take payments.`}
      </p>
      <FormError error={connect.error} />
      {!stripe?.chargesEnabled && (
        <button
          type="button"
          onClick={() => connect.isPending || connect.mutate()}
          disabled={connect.isPending || connect.isSuccess}
        >
          {stripe ? 'Continue Stripe onboarding' : 'Connect Stripe'}
        </button>
      )}
    </Section>
  );
}
