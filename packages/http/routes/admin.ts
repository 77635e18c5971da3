import { auditing, authenticating } from '#db/access';
import { agencyPatchBody } from '#domain/accounts/schemas';
import { allow } from '#domain/auth/principal';
import * as res from '../responses';
import { type HttpFunctionManifest, type RouteDef, standardNeeds } from '../route-def';

/**
 * The platform's say over agencies: plans and suspension. Its own function: the only writes to
 * an agency's plan and status, answerable only to the platform key (top-ups stay with the
 * ledger's function, which owns every credit movement).
 */
export const adminRoutes = [
  {
    method: 'PATCH',
    path: '/v1/admin/agencies/{agencyId}',
    fn: 'admin',
    summary:
      "Set an agency's plan and/or status (platform key). 200 {agency}. Its features follow the plan, at once for its sub-accounts too: they keep only what the new plan allows, and an upgrade gives them nothing until the agency allocates it; without api_access its API keys stop authenticating. status suspended: its users, assist tokens and API keys → 401 until it is active again",
    allow: allow.platform,
    scope: { param: 'agencyId', kind: 'account' },
    body: agencyPatchBody,
    status: 200,
    response: res.AgencyResponse,
  },
] as const satisfies readonly RouteDef[];

/** The admin function (functions/http/admin.ts). */
export const adminFunction = {
  name: 'admin',
  description: "The platform's say over agencies: plans and suspension",
  needs: standardNeeds,
  // Plans and status live on the agency item; the platform's change is audited.
  tableKeys: [...authenticating, auditing],
  routes: adminRoutes,
} as const satisfies HttpFunctionManifest<'admin'>;
