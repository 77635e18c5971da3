import { utcMonth } from '#core/clock';
import type { AccountItem, AgencyItem, SubAccountItem } from '#db/items/account';
import { monthTotals } from '#db/items/usage-rollup';
import { featuresOf } from '../features';

/** What the API shows of accounts: never keys, hashes or internal markers. */
export function agencyView(a: AgencyItem) {
  return {
    id: a.id,
    name: a.name,
    plan: a.plan,
    features: a.features,
    status: a.status,
    emailVerified: a.emailVerified === true,
    createdAt: a.createdAt,
  };
}

/**
 * Sub-accounts as shown, each with `creditsUsedThisMonth` from its agency's month rollup parts
 * (built from the table stream, seconds behind the ledger): one BatchGet for a page of them.
 */
export async function subAccountViews(accounts: SubAccountItem[], agency: AgencyItem) {
  const used = accounts.length
    ? await monthTotals(
        agency.id,
        accounts.map((a) => a.id),
        utcMonth(),
      )
    : new Map<string, number>();
  return accounts.map((a) => subAccountView(a, agency, used.get(a.id) ?? 0));
}

export const subAccountViewOf = async (a: SubAccountItem, agency: AgencyItem) =>
  (await subAccountViews([a], agency))[0] as ReturnType<typeof subAccountView>;

/**
 * A sub-account as shown: its features are those it may use now under its agency's plan
 * (`featuresOf`); `usedThisMonth` is its month rollup's total (`subAccountViews` reads it).
 */
export function subAccountView(a: SubAccountItem, agency: AgencyItem, usedThisMonth: number) {
  return {
    id: a.id,
    agencyId: a.agencyId,
    name: a.name,
    email: a.email,
    phone: a.phone ?? null,
    timezone: a.timezone ?? null,
    website: a.website ?? null,
    address: a.address ?? null,
    status: a.status,
    creditMode: a.creditMode ?? 'manual',
    monthlyCreditLimit: a.monthlyCreditLimit ?? null,
    creditsUsedThisMonth: usedThisMonth,
    features: featuresOf(a, agency),
    clientLogin: a.clientLogin ?? true,
    autoRecharge: a.autoRecharge ?? null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    closedAt: a.closedAt ?? null,
  };
}

export function switcherEntry(a: Pick<AccountItem, 'id' | 'name' | 'type' | 'status'>) {
  return { id: a.id, name: a.name, type: a.type, status: a.status };
}
