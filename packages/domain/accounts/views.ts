import { utcMonth } from '../../core/clock';
import type { AccountItem } from '../../db/items/account';
import { featuresOf } from '../features';

/** What the API shows of accounts: never keys, hashes or internal markers. */
export function agencyView(a: AccountItem) {
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

/** The month's usage, from the account's meter: zero when the meter still counts an earlier month. */
export function creditsUsedThisMonth(account: AccountItem, month = utcMonth()): number {
  return account.meterMonth === month ? (account.meterUsed ?? 0) : 0;
}

/** A sub-account as shown: its features are those it may use now under its agency's plan (`featuresOf`). */
export function subAccountView(a: AccountItem, agency: AccountItem) {
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
    creditsUsedThisMonth: creditsUsedThisMonth(a),
    features: featuresOf(a, agency),
    clientLogin: a.clientLogin ?? true,
    autoRecharge: a.autoRecharge ?? null,
    createdAt: a.createdAt,
    updatedAt: a.updatedAt,
    closedAt: a.closedAt ?? null,
  };
}

export function switcherEntry(a: AccountItem) {
  return { id: a.id, name: a.name, type: a.type, status: a.status };
}
