import { allow } from '#domain/auth/principal';
import * as res from '../responses';
import type { HttpFunctionManifest, RouteDef } from '../route-def';

/** The contract itself. Its own function: it is the only one that needs every schema. */
export const docsRoutes = [
  {
    method: 'GET',
    path: '/v1/openapi.json',
    fn: 'docs',
    summary: 'This API as OpenAPI 3.1',
    allow: allow.anyone,
    status: 200,
    response: res.OpenApiDocument,
  },
] as const satisfies readonly RouteDef[];

/** The docs function (functions/http/docs.ts). */
export const docsFunction = {
  name: 'docs',
  description: 'This API described as OpenAPI 3.1',
  // The OpenAPI document is built from the route table: no data, no secrets.
  needs: [],
  tableKeys: [],
  routes: docsRoutes,
} as const satisfies HttpFunctionManifest<'docs'>;
