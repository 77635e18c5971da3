import { useMutation } from '@tanstack/react-query';
import { useRef } from 'react';
import { Link, Navigate, useNavigate } from 'react-router';
import { api, call } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { useSession } from '../../session';
import { Field, FormError } from '../../ui';
import { text } from './form-text';

/** A new agency and its owner, signed in at once; the dashboard then asks to confirm the email. */
export function SignUp() {
  const { session, signIn } = useSession();
  const navigate = useNavigate();
  // The router moves in a transition, the session at once: without this, the render that sees the new
  // session would still be on /sign-up and its redirect would replace the entry carrying the notice's state.
  const signedUp = useRef(false);
  const signUp = useMutation({
    mutationFn: (form: FormData) =>
      call(
        api.POST('/v1/agencies', {
          body: {
            agencyName: text(form, 'agencyName'),
            name: text(form, 'name'),
            email: text(form, 'email'),
            password: String(form.get('password') ?? ''),
          },
        }),
      ),
    onSuccess: (r) => {
      signedUp.current = true;
      signIn(r.token, r.expiresAt, { accountId: r.agency.id, accountType: 'agency' });
      navigate('/', { state: { verifyEmail: r.user.email } });
    },
  });
  const errors = fieldErrors(signUp.error);
  if (session) return signedUp.current ? null : <Navigate to="/" replace />;
  return (
    <main id="main" className="auth">
      <h1>Create an agency account</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!signUp.isPending) signUp.mutate(new FormData(e.currentTarget));
        }}
      >
        <FormError error={signUp.error} />
        <Field label="Agency name" name="agencyName" required autoComplete="organization" error={errors.agencyName} />
        <Field label="Your name" name="name" required autoComplete="name" error={errors.name} />
        <Field label="Email" name="email" type="email" required autoComplete="email" error={errors.email} />
        <Field
          label="Password"
          name="password"
          type="password"
          required
          autoComplete="new-password"
          hint="At least 10 characters, not a common password."
          error={errors.password}
        />
        <button type="submit" disabled={signUp.isPending}>
          Create account
        </button>
      </form>
      <p>
        Already have an account? <Link to="/sign-in">Log in</Link>
      </p>
    </main>
  );
}
