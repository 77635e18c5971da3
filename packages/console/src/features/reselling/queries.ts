/** Reselling (GET /v1/reselling/…): the settings, the Sub-Account Credit Dashboard and the recharge requests. */
export const resellingKeys = {
  settings: ['reselling-settings'] as const,
  dashboards: ['reselling-dashboard'] as const,
  dashboard: (cursor: string) => [...resellingKeys.dashboards, cursor] as const,
  rechargeRequests: ['recharge-requests'] as const,
  rechargeRequestPage: (cursor: string) => [...resellingKeys.rechargeRequests, cursor] as const,
};
