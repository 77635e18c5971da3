import { useMutation, useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { Link, Navigate, useNavigate, useSearchParams } from 'react-router';
import { api, call } from '../../api/client';
import { fieldErrors } from '../../api/words';
import { useSession } from '../../session';
import { Field, FormError } from '../../ui';
import { ResendVerification } from './resend-verification';

const text = (form: FormData, name: string) => String(form.get(name) ?? '').trim();

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

/** The verification email's link lands here (APP_URL/verify-email?token=…). */
export function VerifyEmail() {
  const [params] = useSearchParams();
  const { session } = useSession();
  // Only an agency user can ask for a new link (the API refuses an assist token).
  const canResend = session?.principal.accountType === 'agency' && !session.assist;
  const token = params.get('token') ?? '';
  // A query, not an effect-run mutation: the token is single-use, and a query runs once however often it mounts.
  const verify = useQuery({
    queryKey: ['verify-email', token],
    queryFn: () => call(api.POST('/v1/auth/verify-email', { body: { token } })).then(() => true),
    retry: false,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return (
    <main id="main" className="auth">
      <h1>Confirm your email</h1>
      {verify.isPending && <p aria-busy="true">Confirming…</p>}
      {verify.isSuccess && <p role="status">Your email is confirmed. You can now add sub-accounts.</p>}
      {verify.isError &&
        (canResend ? (
          <>
            <p role="alert">This link is no longer valid: it was used already, or it expired.</p>
            <ResendVerification />
          </>
        ) : (
          <p role="alert">
            This link is no longer valid. Log in and ask for a new one (Add Account offers to resend it while your email is not
            confirmed).
          </p>
        ))}
      <Link to="/">Go to the dashboard</Link>
    </main>
  );
}

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
