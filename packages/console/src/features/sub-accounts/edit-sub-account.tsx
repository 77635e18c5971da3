import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { usePrincipal } from '../../queries';
import { Field, FormActions, FormError } from '../../ui';
import { accountKeys } from '../dashboard/queries';
import { subAccountKeys } from './queries';

type Feature = Schemas['SubAccount']['features'][number];
const featureNames = {
  campaigns: 'Campaigns',
  ai_bot: 'AI bot',
  api_access: 'API access',
  usage_export: 'Usage export',
  white_label: 'White label',
  reselling: 'Credit reselling',
} as const satisfies Record<Feature, string>;

/**
 * The seed's "Edit Sub Account" modal: name, features (only those the agency's plan has, from
 * GET /v1/me; a refusal is still said next to them, should the plan change meanwhile), credit
 * management mode, monthly limit and, in reselling mode, auto-recharge.
 */
export function EditSubAccount({ sub, onDone }: { sub: Schemas['SubAccount']; onDone: () => void }) {
  const qc = useQueryClient();
  const planFeatures = usePrincipal().me.data?.pages[0]?.agency?.features;
  const offered = (Object.keys(featureNames) as Feature[]).filter((f) => !planFeatures || planFeatures.includes(f));
  const [mode, setMode] = useState(sub.creditMode);
  const save = useMutation({
    mutationFn: async (form: FormData) => {
      const limit = String(form.get('monthlyCreditLimit') ?? '').trim();
      const creditMode = form.get('creditMode') === 'reselling' ? 'reselling' : 'manual';
      const body: Schemas['PatchSubAccountRequest'] = {
        name: String(form.get('name') ?? '').trim(),
        features: form.getAll('features') as Feature[],
        monthlyCreditLimit: limit === '' ? null : Number(limit),
        // Only a change of mode is sent: a switch made elsewhere meanwhile is not silently undone.
        ...(creditMode !== sub.creditMode && { creditMode }),
        // Only when changed: enabling it again would open a request at once if the wallet is already below.
        ...(creditMode === 'reselling' &&
          form.get('arTouched') === 'yes' && {
            autoRecharge: {
              enabled: form.get('arEnabled') === 'on',
              threshold: Number(form.get('arThreshold')),
              credits: Number(form.get('arCredits')),
            },
          }),
      };
      return call(api.PATCH('/v1/sub-accounts/{subAccountId}', { params: { path: { subAccountId: sub.id } }, body }));
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: subAccountKeys.all });
      void qc.invalidateQueries({ queryKey: accountKeys.wallet(sub.id) });
      onDone();
    },
  });
  const errors = fieldErrors(save.error);
  const featuresError = errors.features ?? featureRefusal(save.error);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!save.isPending) save.mutate(new FormData(e.currentTarget));
      }}
    >
      {isWrongMode(save.error) ? (
        <p role="alert" className="form-error">
          This sub-account is no longer in reselling mode (it was changed elsewhere), and auto-recharge needs reselling. Cancel,
          open Edit Sub Account again, choose Reselling, then set auto-recharge.
        </p>
      ) : (
        <FormError error={save.error} />
      )}
      <Field label="Name" name="name" defaultValue={sub.name} required error={errors.name} />
      <fieldset aria-describedby={featuresError ? 'features-error' : undefined}>
        <legend>Features</legend>
        {offered.map((f) => (
          <label key={f} className="choice">
            <input type="checkbox" name="features" value={f} defaultChecked={sub.features.includes(f)} />
            {featureNames[f]}
          </label>
        ))}
        {featuresError && (
          <p id="features-error" className="field-error">
            {featuresError}
          </p>
        )}
      </fieldset>
      <fieldset>
        <legend>Credit management mode</legend>
        <label className="choice">
          <input type="radio" name="creditMode" value="manual" checked={mode === 'manual'} onChange={() => setMode('manual')} />
          Manual: credits come from your agency pool
        </label>
        <label className="choice">
          <input
            type="radio"
            name="creditMode"
            value="reselling"
            checked={mode === 'reselling'}
            onChange={() => setMode('reselling')}
          />
          Reselling: the sub-account buys its own credits
        </label>
        {errors.creditMode && <p className="field-error">{errors.creditMode}</p>}
      </fieldset>
      <Field
        label="Monthly credit limit"
        name="monthlyCreditLimit"
        type="number"
        min={0}
        defaultValue={sub.monthlyCreditLimit ?? ''}
        hint="Leave empty for no limit."
        error={errors.monthlyCreditLimit}
      />
      {mode === 'reselling' && <AutoRechargeFields current={sub.autoRecharge} errors={errors} />}
      <FormActions submit="Save" disabled={save.isPending} onCancel={onDone} />
    </form>
  );
}

function featureRefusal(err: unknown): string | undefined {
  const code = (err as { problem?: { code?: string } } | null)?.problem?.code;
  if (code === 'feature_not_available') return "Your agency's plan does not include one of these features. Untick it.";
  return undefined;
}

const isWrongMode = (err: unknown) => err instanceof ApiError && err.problem?.code === 'wrong_credit_mode';

/** Auto-recharge (reselling mode only): below the threshold, the agency's webhook is asked for a recharge. */
function AutoRechargeFields({
  current,
  errors,
}: {
  current: Schemas['SubAccount']['autoRecharge'];
  errors: Record<string, string>;
}) {
  const [touched, setTouched] = useState(false);
  return (
    <fieldset onChange={() => setTouched(true)}>
      <legend>Auto-recharge</legend>
      <input type="hidden" name="arTouched" value={touched ? 'yes' : 'no'} />
      <label className="choice">
        <input type="checkbox" name="arEnabled" defaultChecked={current?.enabled ?? false} />
        Ask for a recharge when the wallet runs low
      </label>
      <Field
        label="Recharge below (credits)"
        name="arThreshold"
        type="number"
        min={0}
        defaultValue={current?.threshold ?? 100}
        error={errors['autoRecharge.threshold']}
      />
      <Field
        label="Credits to add"
        name="arCredits"
        type="number"
        min={1}
        defaultValue={current?.credits ?? 500}
        error={errors['autoRecharge.credits']}
      />
      {errors.autoRecharge && <p className="field-error">{errors.autoRecharge}</p>}
    </fieldset>
  );
}
