import { useMutation } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { api, call } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { Field, FormError } from '../../ui';
import { text } from './form-text';

/** Without a token: ask for the email; with one (the email's link): choose a new password. */
export function ResetPassword() {
  const [params] = useSearchParams();
  const token = params.get('token');
  const ask = useMutation({
    mutationFn: (form: FormData) => call(api.POST('/v1/auth/password-reset', { body: { email: text(form, 'email') } })),
  });
  const confirm = useMutation({
    mutationFn: (form: FormData) =>
      call(
        api.POST('/v1/auth/password-reset/confirm', {
          body: { token: token ?? '', newPassword: String(form.get('newPassword') ?? '') },
        }),
      ),
  });
  const m = token ? confirm : ask;
  const errors = fieldErrors(m.error);
  return (
    <main id="main" className="auth">
      <h1>Reset your password</h1>
      {m.isSuccess ? (
        <p role="status">
          {token ? 'Your password is changed. ' : 'If that email has an account, we have sent it a link. '}
          <Link to="/sign-in">Log in</Link>
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (!m.isPending) m.mutate(new FormData(e.currentTarget));
          }}
        >
          <FormError error={m.error} />
          {token ? (
            <Field
              label="New password"
              name="newPassword"
              type="password"
              required
              autoComplete="new-password"
              error={errors.newPassword}
            />
          ) : (
            <Field label="Email" name="email" type="email" required autoComplete="email" error={errors.email} />
          )}
          <button type="submit" disabled={m.isPending}>
            {token ? 'Set password' : 'Send the link'}
          </button>
        </form>
      )}
    </main>
  );
}
