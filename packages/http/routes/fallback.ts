import type { HttpFunctionManifest } from '../route-def';

/** The fallback function (functions/http/fallback.ts): API Gateway's $default route, no routes of its own. */
export const fallbackFunction = {
  name: 'fallback',
  description: 'Anything the route table does not have: 404 or 405 as problem JSON',
  // Matches the route table only: no data, no secrets.
  needs: [],
  tableKeys: [],
  routes: [],
} as const satisfies HttpFunctionManifest<'fallback'>;
