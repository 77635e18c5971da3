import { Link, useSearchParams } from 'react-router';
import { usePrincipal } from '../../queries';

/** Stripe Checkout sends the browser back here (success_url / cancel_url carry ?checkout=). */
export function PurchaseReturn() {
  const [params] = useSearchParams();
  const ok = params.get('checkout') === 'success';
  const where = usePrincipal().principal?.accountType === 'agency' ? 'the agency pool' : 'your wallet';
  return (
    <>
      <h1>{ok ? 'Thank you for your purchase' : 'Purchase canceled'}</h1>
      <p role="status">
        {ok
          ? `Your payment went through: the credits arrive in ${where} within moments.`
          : 'Nothing was charged. You can buy credits again whenever you like.'}
      </p>
      <Link to="/">Back to the dashboard</Link>
    </>
  );
}
