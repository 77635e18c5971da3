import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useId } from 'react';
import { Link, useSearchParams } from 'react-router';
import { api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { ConfirmButton, credits, Field, FormError, Loaded, Section } from '../../ui';
import { AlertLevels } from './alert-levels';
import { autoTopUpKeys, autoTopUpOptions } from './queries';

/**
 * The agency pool never runs dry by surprise (API.md "Credits: auto top-up, alerts, runway"):
 * a card saved through Stripe Checkout (setup mode), auto top-up on it, and low-balance alert
 * levels. Shown under Buy pool credits on the dashboard, and on the page Checkout returns to.
 */
export function AutoTopUpSettings({ poll = false }: { poll?: boolean }) {
  const settings = useQuery(autoTopUpOptions(poll));
  return (
    <Loaded query={settings} label="the auto top-up settings">
      {(s) => (
        <>
          <SavedCard settings={s} />
          {/* A card saved or removed elsewhere (or here) starts the form again from what the server holds. */}
          <AutoTopUpForm key={s.paymentMethod ? 'card' : 'no card'} settings={s} />
        </>
      )}
    </Loaded>
  );
}

type Settings = Schemas['AutoTopUp'];

function SavedCard({ settings }: { settings: Settings }) {
  const qc = useQueryClient();
  const open = useMutation({
    mutationFn: () => call(api.POST('/v1/credits/auto-top-up/payment-method')),
    onSuccess: (r) => window.location.assign(r.checkoutUrl),
  });
  const card = settings.paymentMethod;
  return (
    <div className="saved-card">
      <h3>Saved card</h3>
      <FormError error={open.error} />
      {card ? (
        <p data-testid="saved-card">
          {cardName(card.brand)} ending {card.last4}, expires {String(card.expMonth).padStart(2, '0')}/{card.expYear}
        </p>
      ) : (
        <p data-testid="saved-card">No card is saved. Auto top-up charges a saved card.</p>
      )}
      <div className="actions">
        <button type="button" disabled={open.isPending || open.isSuccess} onClick={() => open.mutate()}>
          {open.isPending || open.isSuccess ? 'Opening checkout…' : card ? 'Replace the card' : 'Save a card'}
        </button>
        {card && (
          <ConfirmButton
            label="Remove the card"
            title="Remove the saved card?"
            confirm="Remove"
            act={() => call(api.DELETE('/v1/credits/auto-top-up/payment-method'))}
            onDone={() => void qc.invalidateQueries({ queryKey: autoTopUpKeys.settings })}
          >
            <p>
              The card ending {card.last4} is removed from Stripe and auto top-up turns off. Your pool is topped up only by hand
              until you save another card.
            </p>
          </ConfirmButton>
        )}
      </div>
    </div>
  );
}

const cardName = (brand: string) =>
  ({ visa: 'Visa', mastercard: 'Mastercard', amex: 'American Express', discover: 'Discover' })[brand] ?? brand;

function AutoTopUpForm({ settings }: { settings: Settings }) {
  const qc = useQueryClient();
  const enabledId = useId();
  const save = useMutation({
    mutationFn: (body: Schemas['AutoTopUpRequest']) => call(api.PUT('/v1/credits/auto-top-up', { body })),
    onSuccess: (next) => qc.setQueryData(autoTopUpOptions().queryKey, next),
  });
  const errors = fieldErrors(save.error);
  return (
    <form
      aria-labelledby="auto-top-up-h"
      onSubmit={(e) => {
        e.preventDefault();
        if (save.isPending) return;
        const form = new FormData(e.currentTarget);
        save.mutate({
          enabled: form.get('enabled') === 'on',
          threshold: Number(form.get('threshold')),
          credits: Number(form.get('credits')),
        });
      }}
      onChange={() => save.isSuccess && save.reset()}
    >
      <h3 id="auto-top-up-h">Auto top-up</h3>
      <p data-testid="auto-top-up-state">{stateInWords(settings)}</p>
      {settings.lastAttempt && <p data-testid="auto-top-up-last">{attemptInWords(settings)}</p>}
      {/* A refusal that belongs to a field is said next to it (409 no_payment_method: the switch). */}
      {Object.keys(errors).length === 0 && <FormError error={save.error} />}
      <div className="field">
        <label className="choice">
          <input
            type="checkbox"
            name="enabled"
            defaultChecked={settings.enabled}
            aria-invalid={errors.enabled ? true : undefined}
            aria-describedby={errors.enabled ? `${enabledId}-error` : undefined}
          />
          Top up the pool automatically
        </label>
        {errors.enabled && (
          <p id={`${enabledId}-error`} className="field-error">
            {errors.enabled}
          </p>
        )}
      </div>
      <Field
        label="When the pool falls below (credits)"
        name="threshold"
        type="number"
        min={0}
        required
        inputMode="numeric"
        defaultValue={settings.threshold ?? undefined}
        error={errors.threshold}
      />
      <Field
        label="Credits to buy each time"
        name="credits"
        type="number"
        min={1}
        required
        inputMode="numeric"
        defaultValue={settings.credits ?? undefined}
        hint="At the platform's price, charged to the saved card; at most 5 top-ups a day."
        error={errors.credits}
      />
      <button type="submit" disabled={save.isPending}>
        Save auto top-up
      </button>
      {save.isSuccess && <p role="status">Auto top-up saved.</p>}
    </form>
  );
}

function stateInWords(s: Settings): string {
  if (s.enabled && s.threshold !== null && s.credits !== null)
    return `Auto top-up is on: when the pool falls below ${credits(s.threshold)} credits, ${credits(s.credits)} credits are bought.`;
  if (s.disabledReason === 'three_failures_in_a_row')
    return 'Auto top-up is off: three payments in a row failed. Check the card (or save another), then turn it on again.';
  if (s.disabledReason === 'payment_method_removed') return 'Auto top-up is off: the saved card was removed.';
  return 'Auto top-up is off.';
}

function attemptInWords(s: Settings): string {
  const a = s.lastAttempt;
  if (!a) return '';
  const when = `${a.at.slice(0, 10)} ${a.at.slice(11, 16)} UTC`;
  const inARow = s.failuresInARow > 1 ? ` (${s.failuresInARow} failures in a row; the third turns auto top-up off)` : '';
  if (a.status === 'succeeded') return `Last top-up: paid on ${when}.`;
  if (a.status === 'requires_action')
    return `Last top-up on ${when} needs you: ${a.reason ?? 'your bank asks you to confirm the payment'}. We emailed you a link to pay it.${inARow}`;
  return `Last top-up on ${when} failed: ${a.reason ?? 'the payment was refused'}.${inARow}`;
}

/** `/credits/auto-top-up`: where the card-saving Checkout returns (?setup=success|canceled). */
export function AutoTopUpReturn() {
  const [params] = useSearchParams();
  const setup = params.get('setup');
  const card = useQuery(autoTopUpOptions(setup === 'success')).data?.paymentMethod;
  return (
    <>
      <h1>Auto top-up</h1>
      {setup && (
        <p role="status">
          {setup !== 'success'
            ? 'No card was saved.'
            : card
              ? 'Your card is saved. Turn auto top-up on below.'
              : 'Saving your card… it shows here within moments.'}
        </p>
      )}
      <Section title="Your pool's card and auto top-up">
        <AutoTopUpSettings poll={setup === 'success'} />
        <AlertLevels />
      </Section>
      <Link to="/">Back to the dashboard</Link>
    </>
  );
}
