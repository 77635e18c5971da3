import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, api, call, type Schemas } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormActions, FormError } from '../../ui';
import { ResendVerification } from '../identity/resend-verification';
import { useSubAccountsChanged } from './queries';

type Created = Schemas['SubAccountCreated'];

/** The seed's "Add Account" form: a refusal is said next to its field (an unconfirmed email offers the email again). */
export function AddAccountForm({ onCreated, onCancel }: { onCreated: (c: Created) => void; onCancel: () => void }) {
  const changed = useSubAccountsChanged();
  const create = useMutation({
    mutationFn: (form: FormData) => {
      const opt = (name: string) => String(form.get(name) ?? '').trim() || undefined;
      return call(
        api.POST('/v1/sub-accounts', {
          body: {
            name: String(form.get('name') ?? '').trim(),
            email: String(form.get('email') ?? '').trim(),
            phone: opt('phone'),
            website: opt('website'),
            timezone: opt('timezone'),
            clientLogin: form.get('clientLogin') === 'on',
          },
        }),
      );
    },
    onSuccess: (c) => {
      changed();
      onCreated(c);
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        if (!create.isPending) create.mutate(new FormData(e.currentTarget));
      }}
    >
      <FormError error={create.error} />
      {create.error instanceof ApiError && create.error.problem?.code === 'email_not_verified' && <ResendVerification />}
      <Field label="Name" name="name" required hint="The client's business or contact name." error={errors.name} />
      <Field label="Email" name="email" type="email" required hint="Used for the client's login." error={errors.email} />
      <Field label="Phone" name="phone" type="tel" error={errors.phone} />
      <Field label="Website" name="website" type="url" placeholder="https://" error={errors.website} />
      <Field label="Time zone" name="timezone" placeholder="Europe/London" error={errors.timezone} />
      <label className="choice">
        <input type="checkbox" name="clientLogin" defaultChecked /> Give the client a login (emailed to them)
      </label>
      <FormActions submit="Sign Up" disabled={create.isPending} onCancel={onCancel} />
    </form>
  );
}

/** The client's password, shown this once (it is also emailed to them). */
export function CreatedPopup({ created, onClose }: { created: Created; onClose: () => void }) {
  const [copied, setCopied] = useState<'yes' | 'failed'>();
  return (
    <>
      <p>{created.subAccount.name} is ready to use.</p>
      {created.password ? (
        <>
          <p>
            The client logs in as <strong>{created.loginEmail ?? created.subAccount.email}</strong> with this password. It is
            shown only now; we also emailed it to them.
          </p>
          <div className="field">
            <label htmlFor="client-password">Client password</label>
            <input id="client-password" readOnly value={created.password} onFocus={(e) => e.currentTarget.select()} />
          </div>
          <button
            type="button"
            onClick={() =>
              navigator.clipboard.writeText(created.password ?? '').then(
                () => setCopied('yes'),
                () => setCopied('failed'),
              )
            }
          >
            Copy password
          </button>
          <p role="status">
            {copied === 'yes' && 'Password copied.'}
            {copied === 'failed' && 'Could not copy: select the password and copy it yourself.'}
          </p>
        </>
      ) : (
        <p>This client has no login: manage the account by switching to it or with Assist.</p>
      )}
      <button type="button" onClick={onClose}>
        Done
      </button>
    </>
  );
}
