import { lazy, Suspense } from 'react';
import { Navigate, Route, Routes, useLocation } from 'react-router';
import { Layout } from './layout';
import { AccountHome } from './pages/account-home';
import { ApiKeys } from './pages/api-keys';
import { AuditLog } from './pages/audit-log';
import { AutoTopUpReturn } from './pages/auto-top-up';
import { AgencyCampaigns } from './pages/campaigns';
import { ChangePassword } from './pages/change-password';
import { Dashboard } from './pages/dashboard';
import { EventWebhooks } from './pages/event-webhooks';
import { PurchaseReturn } from './pages/purchase-return';
import { Reselling } from './pages/reselling';
import { ResetPassword, SignIn, SignUp, VerifyEmail } from './pages/sign-in';
import { SubAccounts } from './pages/sub-accounts';
import { Transactions } from './pages/transactions';
import { useSession } from './session';

// Opened from the list only: its code loads on first use, not with the console.
const CampaignPage = lazy(() => import('./pages/campaign').then((m) => ({ default: m.CampaignPage })));
const campaignPage = (
  <Suspense fallback={<p aria-busy="true">Loading the campaign…</p>}>
    <CampaignPage />
  </Suspense>
);

export function App() {
  const { session } = useSession();
  const location = useLocation();
  return (
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
  );
}
