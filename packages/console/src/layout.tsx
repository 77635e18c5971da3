import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { RouteErrorBoundary } from './error-boundary';
import { ResendVerification } from './features/identity/resend-verification';
import { usePrincipal } from './queries';
import { useSession } from './session';
import { Loaded } from './ui';

const agencyNav = [
  ['/', 'Dashboard'],
  ['/sub-accounts', 'Sub Accounts'],
  ['/transactions', 'Transactions'],
  ['/campaigns', 'Campaigns'],
  ['/reselling', 'Reselling'],
  ['/api-keys', 'API Keys'],
  ['/event-webhooks', 'Event Webhooks'],
  ['/audit-log', 'Audit Log'],
] as const;

export function Layout() {
  const { session, signOut, endAssist } = useSession();
  const { me, principal } = usePrincipal();
  const navigate = useNavigate();
  const isAgency = principal?.accountType === 'agency';
  const unconfirmed = !session?.assist && me.data?.pages[0]?.agency?.emailVerified === false;
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      {session?.assist && (
        <section className="assist-banner" aria-label="Assist mode">
          <p>
            You are assisting <strong>{session.assist.name}</strong>: everything you do is recorded as you, acting for them.
          </p>
          <button
            type="button"
            onClick={async () => {
              await endAssist();
              navigate('/sub-accounts');
            }}
          >
            Return to Agency
          </button>
        </section>
      )}
      {unconfirmed && <ConfirmEmailBanner />}
      <header className="top">
        <span className="brand">Agency accounts</span>
        {isAgency && <AccountDropdown />}
        {!session?.assist && <Link to="/password">Change password</Link>}
        <button
          type="button"
          onClick={async () => {
            await signOut();
            navigate('/sign-in');
          }}
        >
          Log out
        </button>
      </header>
      <div className="frame">
        {isAgency && (
          <nav aria-label="Main">
            <ul>
              {agencyNav.map(([to, label]) => (
                <li key={to}>
                  <NavLink to={to} end={to === '/'}>
                    {label}
                  </NavLink>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <main id="main" tabIndex={-1}>
          {me.isError ? (
            <Loaded query={me} label="your account">
              {() => null}
            </Loaded>
          ) : (
            <RouteErrorBoundary>
              <Outlet />
            </RouteErrorBoundary>
          )}
        </main>
      </div>
    </>
  );
}

/** The seed's "account dropdown selector": the agency first, then its sub-accounts; choosing one switches the view. */
function AccountDropdown() {
  const { me, principal } = usePrincipal();
  const navigate = useNavigate();
  const { pathname } = useLocation();
  const accounts = me.data?.pages.flatMap((p) => p.accounts) ?? [];
  const current = /^\/accounts\/([^/]+)/.exec(pathname)?.[1] ?? principal?.accountId ?? '';
  return (
    <div className="switcher">
      <label htmlFor="account-switcher">Account</label>
      <select
        id="account-switcher"
        value={current}
        onChange={(e) => navigate(e.target.value === principal?.accountId ? '/' : `/accounts/${e.target.value}`)}
      >
        {accounts.map((a) => (
          <option key={a.id} value={a.id}>
            {a.type === 'agency' ? `${a.name} (agency)` : a.name}
          </option>
        ))}
      </select>
      {me.hasNextPage && (
        <button type="button" onClick={() => void me.fetchNextPage()} disabled={me.isFetchingNextPage}>
          More accounts
        </button>
      )}
    </div>
  );
}

/**
 * The one "Confirm your email" banner, on every page while the agency's owner has not followed
 * the link (GET /v1/me says so): until then adding a sub-account is refused.
 */
function ConfirmEmailBanner() {
  // Right after sign-up the address is known; later the words do without it.
  const email = (useLocation().state as { verifyEmail?: string } | null)?.verifyEmail;
  return (
    <section className="notice" aria-label="Confirm your email">
      <p>Confirm your email: follow the link we emailed{email ? ` to ${email}` : ' you'} before adding sub-accounts.</p>
      <ResendVerification email={email} />
    </section>
  );
}
