import { AppError, forbidden, notFound } from '../core/errors';
import { isIdOf } from '../core/ids';
import { type AccountItem, getAccount } from '../db/items/account';
import { canReach, type Principal } from '../domain/auth/principal';
import { type ParamName, paramIdKinds, type RouteDef } from './route-def';

/**
 * The one authorization step every route goes through, driven by its route-table entry:
 * principal kind (403), the ids in the path (404 unless each has its kind's shape, before
 * any read: nothing malformed ever reaches DynamoDB), the account named in the path (404
 * unless reachable: no id of another tenant is ever confirmed to exist), then the route's
 * feature (403). Returns the account in scope so the use case need not read it again.
 */
export async function authorize(
  route: RouteDef,
  principal: Principal | undefined,
  params: Record<string, string>,
  ownAccount: AccountItem | undefined,
): Promise<AccountItem | undefined> {
  if (route.allow.length > 0) {
    if (!principal) throw new AppError('unauthenticated');
    if (!route.allow.includes(principal.kind)) throw forbidden();
  }
  for (const [name, value] of Object.entries(params)) {
    const kinds = paramIdKinds[name as ParamName];
    if (!kinds || !isIdOf(value, kinds)) throw notFound();
  }
  if (!principal) return undefined;

  let account: AccountItem | undefined;
  if (route.scope) {
    const id = params[route.scope.param] ?? '';
    account = id === ownAccount?.id ? ownAccount : await getAccount(id);
    if (!account || !canReach(principal, account, route.scope.kind)) throw notFound('Account');
  }

  if (route.feature) {
    const target = account ?? ownAccount ?? (principal.kind === 'platform' ? undefined : await getAccount(principal.accountId));
    if (target && !target.features.includes(route.feature)) {
      throw new AppError('feature_not_enabled', `The ${route.feature} feature is not enabled for this account`);
    }
  }
  return account;
}
