import type { AccountItem } from '../../db/accounts';
import { creditsUsedThisMonth } from '../ledger/balances';

/** What the API shows of accounts: never keys, hashes or internal markers. */
export function agencyView(a: AccountItem) {
  return { id: a.id, name: a.name, plan: a.plan, features: a.features, createdAt: a.createdAt };
}

export function subAccountView(a: AccountItem) {
  return {
    id: a.id,
    agencyId: a.agencyId,
    name: a.name,
    email: a.email,
    phone: a.phone,
    timezone: a.timezone,
    website: a.website,
    address: a.address,
    status: a.status,
    creditMode: a.creditMode ?? 'manual',
    monthlyCreditLimit: a.monthlyCreditLimit ?? null,
    creditsUsedThisMonth: creditsUsedThisMonth(a),
    features: a.features,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    ...(a.closedAt ? { closedAt: a.closedAt } : {}),
  };
}

export function switcherEntry(a: AccountItem) {
  return { id: a.id, name: a.name, type: a.type, status: a.status };
}
