import { useMutation } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { api, call } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { useSession } from '../../session';
import { Field, FormError } from '../../ui';
import { text } from './form-text';

/** Log in with an email and a password; after a session ended, why it ended. */
export function SignIn() {
  const { signIn, endedBecause } = useSession();
  const navigate = useNavigate();
  const login = useMutation({
    mutationFn: (form: FormData) =>
      call(api.POST('/v1/auth/login', { body: { email: text(form, 'email'), password: String(form.get('password') ?? '') } })),
    onSuccess: (r) => {
      signIn(r.token, r.expiresAt, r.principal);
      navigate('/');
    },
  });
  const errors = fieldErrors(login.error);
  return (
    <main id="main" className="auth">
      <h1>Log in</h1>
      {endedBecause && <p role="status">{endedBecause}</p>}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!login.isPending) login.mutate(new FormData(e.currentTarget));
        }}
      >
        <FormError error={login.error} />
        <Field label="Email" name="email" type="email" autoComplete="username" required error={errors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          error={errors.password}
        />
        <button type="submit" disabled={login.isPending}>
          Log in
        </button>
      </form>
      <p>
        New agency? <Link to="/sign-up">Create an agency account</Link>. <Link to="/reset-password">Forgot your password?</Link>
      </p>
    </main>
  );
}
