import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { useSession } from '../../session';
import { verifyEmailOptions } from './queries';
import { ResendVerification } from './resend-verification';

/** The verification email's link lands here (APP_URL/verify-email?token=…). */
export function VerifyEmail() {
  const [params] = useSearchParams();
  const { session } = useSession();
  // Only an agency user can ask for a new link (the API refuses an assist token).
  const canResend = session?.principal.accountType === 'agency' && !session.assist;
  const token = params.get('token') ?? '';
  const verify = useQuery(verifyEmailOptions(token));
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
