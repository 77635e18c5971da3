import { useMutation } from '@tanstack/react-query';
import { ApiError, api, call } from '../../api/client';
import { errorSentence } from '../../api/words';

/**
 * "Resend the email": a new confirmation link for the agency's email. The API answers 202 the
 * same whether it sent one or the email was confirmed already (it then sends nothing), so the
 * words cover both; it allows 3 an hour per agency and answers 429 with Retry-After beyond.
 */
export function ResendVerification({ email }: { email?: string }) {
  const resend = useMutation({ mutationFn: () => call(api.POST('/v1/auth/verify-email/resend')) });
  return (
    <div className="resend">
      <button type="button" disabled={resend.isPending} onClick={() => resend.isPending || resend.mutate()}>
        Resend the email
      </button>
      <p role="status">
        {resend.isSuccess &&
          `Done: unless your email is confirmed already, a new confirmation link is on its way to ${email ?? 'your email address'}. It can take a minute, and links sent earlier still work. If you confirmed it already, nothing was sent and you can add sub-accounts now.`}
      </p>
      {resend.isError && (
        <p role="alert" className="form-error">
          {refusal(resend.error)}
        </p>
      )}
    </div>
  );
}

function refusal(err: unknown): string {
  if (!(err instanceof ApiError) || err.problem?.code !== 'too_many_attempts') return errorSentence(err);
  const minutes = err.retryAfterSeconds ? Math.ceil(err.retryAfterSeconds / 60) : undefined;
  const when = minutes ? `in ${minutes} minute${minutes === 1 ? '' : 's'}` : 'later';
  return `We have already sent you several links in the last hour, so we are not sending another yet. Look for them in your inbox (and your spam folder), or ask again ${when}.`;
}
