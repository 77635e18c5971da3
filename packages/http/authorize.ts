import { AppError, forbidden, notFound } from '#core/errors';
import { isIdOf } from '#core/ids';
import { type AccountItem, type AgencyItem, accountKey, accountShape, getAccount } from '#db/items/account';
import { foundItem } from '#db/read';
import type { Key } from '#db/schema';
import { canReach, type Principal } from '#domain/auth/principal';
import { featuresOf } from '#domain/features';
import type { Authenticated, Found } from './authenticate';
import { type ParamName, paramIdKinds, type RouteDef } from './route-def';

const shapesValid = (params: Record<string, string>) =>
  Object.entries(params).every(([name, value]) => {
    const kinds = paramIdKinds[name as ParamName];
    return !!kinds && isIdOf(value, kinds);
  });

/**
 * What `authorize` will need read for this route, so authentication reads it in the same
 * BatchGet: the account in scope, when the principal may call the route at all and every id in
 * the path has its kind's shape (nothing malformed ever reaches DynamoDB).
 */
export function scopeReads(route: RouteDef, principal: Principal, params: Record<string, string>): Key[] {
  if (!route.scope || !route.allow.includes(principal.kind) || !shapesValid(params)) return [];
  return [accountKey(params[route.scope.param] ?? '')];
}

/**
 * The one authorization step every route goes through, driven by its route-table entry:
 * principal kind (403), the ids in the path (404 unless each has its kind's shape), the
 * account named in the path (404 unless reachable: no id of another tenant is ever confirmed
 * to exist), then the route's feature (403), judged on what the account may use now under its
 * agency's plan (`featuresOf`). Returns the account in scope so the use case need not read it
 * again. `found` holds what authentication read, `scopeReads` included.
 */
export async function authorize(
  route: RouteDef,
  auth: Authenticated | undefined,
  params: Record<string, string>,
  found: Found = new Map(),
): Promise<AccountItem | undefined> {
  const principal = auth?.principal;
  if (route.allow.length > 0) {
    if (!principal) throw new AppError('unauthenticated');
    if (!route.allow.includes(principal.kind)) throw forbidden();
  }
  if (!shapesValid(params)) throw notFound();
  if (!auth || !principal) return undefined;

  let account: AccountItem | undefined;
  if (route.scope) {
    const id = params[route.scope.param] ?? '';
    account = foundItem(found, accountKey(id), accountShape);
    if (!account || !canReach(principal, account, route.scope.kind)) throw notFound('Account');
  }

  if (route.feature) {
    const target = account ?? auth.ownAccount ?? auth.agency;
    if (target && !(await featuresNow(target, auth.agency)).includes(route.feature)) {
      throw new AppError('feature_not_enabled', `The ${route.feature} feature is not enabled for this account`);
    }
  }
  return account;
}

/** An agency's features are its plan's; a sub-account's are its allocation under its agency's plan. */
async function featuresNow(account: AccountItem, callersAgency: AgencyItem | undefined) {
  if (account.type === 'agency') return account.features;
  const agency = callersAgency?.id === account.agencyId ? callersAgency : await getAccount(account.agencyId);
  return agency ? featuresOf(account, agency) : [];
}
