import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { RouteErrorBoundary } from './error-boundary';
import { ApiKeys } from './features/api-keys/api-keys';
import { AuditLog } from './features/audit-log/audit-log';
import { AutoTopUpReturn } from './features/auto-top-up/auto-top-up';
import { AgencyCampaigns } from './features/campaigns/campaigns';
import { PurchaseReturn } from './features/credits/purchase-return';
import { Transactions } from './features/credits/transactions';
import { AccountHome } from './features/dashboard/account-home';
import { Dashboard } from './features/dashboard/dashboard';
import { ChangePassword } from './features/identity/change-password';
import { ResetPassword } from './features/identity/reset-password';
import { SignIn } from './features/identity/sign-in';
import { SignUp } from './features/identity/sign-up';
import { VerifyEmail } from './features/identity/verify-email';
import { Reselling } from './features/reselling/reselling';
import { SubAccounts } from './features/sub-accounts/sub-accounts';
import { EventWebhooks } from './features/webhooks/event-webhooks';
import { Layout } from './layout';
import { useSession } from './session';

// Opened from the list only: its code loads on first use, not with the console. Should that load
// fail (a deploy replaced the chunk), the error boundary around the pages says so and offers Reload.
const CampaignPage = lazy(() => import('./features/campaigns/campaign-page').then((m) => ({ default: m.CampaignPage })));
const campaignPage = (
  <Suspense fallback={<p aria-busy="true">Loading the campaign…</p>}>
    <CampaignPage />
  </Suspense>
);

export function App() {
  const { session } = useSession();
  const location = useLocation();
  return (
    <RouteErrorBoundary standalone>
      <Routes>
        <Route path="/sign-in" element={session ? <Navigate to="/" replace /> : <SignIn />} />
        <Route path="/sign-up" element={<SignUp />} />
        <Route path="/verify-email" element={<VerifyEmail />} />
        <Route path="/reset-password" element={<ResetPassword />} />
        <Route element={session ? <Layout /> : <Navigate to="/sign-in" replace state={{ from: location.pathname }} />}>
          <Route index element={<Dashboard />} />
          <Route path="accounts/:accountId" element={<AccountHome />} />
          <Route path="accounts/:accountId/campaigns/:campaignId" element={campaignPage} />
          <Route path="sub-accounts" element={<SubAccounts />} />
          <Route path="transactions" element={<Transactions />} />
          <Route path="campaigns" element={<AgencyCampaigns />} />
          <Route path="campaigns/:campaignId" element={campaignPage} />
          <Route path="reselling/*" element={<Reselling />} />
          <Route path="api-keys" element={<ApiKeys />} />
          <Route path="event-webhooks" element={<EventWebhooks />} />
          <Route path="audit-log" element={<AuditLog />} />
          <Route path="password" element={<ChangePassword />} />
          <Route path="credits/purchases/:purchaseId" element={<PurchaseReturn />} />
          <Route path="credits/auto-top-up" element={<AutoTopUpReturn />} />
          <Route path="*" element={<p>There is no page here.</p>} />
        </Route>
      </Routes>
    </RouteErrorBoundary>
  );
}
