import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';
import { api, call } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { useSession } from '../../session';
import { Field, FormError } from '../../ui';

/**
 * Change your password (POST /v1/auth/password). The server ends every earlier session of the
 * user, this one included, and answers a new one: the console swaps it in before anything else
 * is sent, so this tab stays signed in while other tabs and devices are signed out.
 */
export function ChangePassword() {
  const { replaceToken } = useSession();
  const [done, setDone] = useState(false);
  const change = useMutation({
    mutationFn: (form: FormData) =>
      call(
        api.POST('/v1/auth/password', {
          body: {
            currentPassword: String(form.get('currentPassword') ?? ''),
            newPassword: String(form.get('newPassword') ?? ''),
          },
        }),
      ),
    onSuccess: (r) => {
      replaceToken(r.token, r.expiresAt);
      setDone(true);
    },
  });
  const errors = fieldErrors(change.error);
  return (
    <>
      <h1>Change password</h1>
      <form
        aria-labelledby="change-password-h"
        onSubmit={(e) => {
          e.preventDefault();
          if (change.isPending) return;
          setDone(false);
          change.mutate(new FormData(e.currentTarget), { onSuccess: () => (e.target as HTMLFormElement).reset() });
        }}
      >
        <h2 id="change-password-h">Your password</h2>
        <FormError error={change.error} />
        <Field
          label="Current password"
          name="currentPassword"
          type="password"
          autoComplete="current-password"
          required
          error={errors.currentPassword}
        />
        <Field
          label="New password"
          name="newPassword"
          type="password"
          autoComplete="new-password"
          required
          hint="At least 10 characters. Every other session of yours ends; API keys keep working."
          error={errors.newPassword}
        />
        <button type="submit" disabled={change.isPending}>
          {change.isPending ? 'Changing…' : 'Change password'}
        </button>
        <p role="status">{done && 'Your password is changed. Other sessions have been signed out.'}</p>
      </form>
    </>
  );
}
