/**
 * The HTTP functions, one manifest each, declared in its routes file (name, description, needs,
 * table keys, routes; see `HttpFunctionManifest`), and the table keys of every function,
 * workers included. Adding an HTTP function: its routes file with its manifest, its handler
 * (`functions/http/<name>.ts`), and its line below; CDK, the local runtime, the route table
 * and the OpenAPI document take it from here (a unit test holds the files and the list equal).
 */
import { workerTableKeyPrefixes } from '#db/access';
import type { HttpFunctionManifest } from './route-def';
import { adminFunction } from './routes/admin';
import { autoRechargeFunction } from './routes/auto-recharge';
import { campaignsFunction } from './routes/campaigns';
import { creditsFunction } from './routes/credits';
import { docsFunction } from './routes/docs';
import { fallbackFunction } from './routes/fallback';
import { identityFunction } from './routes/identity';
import { publicFunction } from './routes/public';
import { resellingFunction } from './routes/reselling';
import { stripeWebhooksFunction } from './routes/stripe-webhooks';
import { subAccountsFunction } from './routes/sub-accounts';
import { usageFunction } from './routes/usage';

export const httpFunctionManifests = [
  publicFunction,
  docsFunction,
  identityFunction,
  subAccountsFunction,
  campaignsFunction,
  usageFunction,
  creditsFunction,
  adminFunction,
  resellingFunction,
  stripeWebhooksFunction,
  autoRechargeFunction,
  fallbackFunction,
] as const;

export type HttpFunction = (typeof httpFunctionManifests)[number]['name'];
export const httpFunctions: readonly HttpFunction[] = httpFunctionManifests.map((m) => m.name);

const byName = new Map<string, HttpFunctionManifest>(httpFunctionManifests.map((m) => [m.name, m]));
export function manifestOf(name: HttpFunction): HttpFunctionManifest {
  return byName.get(name) as HttpFunctionManifest;
}

/** Every function that touches the table, HTTP or worker. */
export type TableUser = HttpFunction | keyof typeof workerTableKeyPrefixes;

/**
 * Which table partitions each function may touch, by key prefix (db/access.ts says how CDK and
 * the local runtime enforce it).
 */
const httpTableKeys = {} as Record<HttpFunction, readonly string[]>;
for (const m of httpFunctionManifests) httpTableKeys[m.name] = m.tableKeys;

export const tableKeyPrefixes: Record<TableUser, readonly string[]> = { ...httpTableKeys, ...workerTableKeyPrefixes };
