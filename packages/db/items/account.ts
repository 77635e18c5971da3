import { table } from '../client';
import { itemShape, parseFound } from '../item-shape';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import { committedOrStale, type NamedItem, type TransactItem, throwing, transactIf, unhandled } from '../transact';
import { type Feature, type Plan, plans } from '../vocabulary';

/**
 * An agency or a sub-account: profile, plan and features, status, credit mode and monthly limit
 * (the limit's meter is an item of its own: meter.ts).
 * Sub-accounts are `active` or `closed`; agencies `active` or `suspended` (by the platform).
 */
export type AccountStatus = 'active' | 'closed' | 'suspended';
export type CreditMode = 'manual' | 'reselling';

export interface Address {
  line1?: string;
  line2?: string;
  city?: string;
  region?: string;
  postalCode?: string;
  country?: string;
}

/** What agencies and sub-accounts both hold. */
interface AccountBase {
  kind: typeof itemKinds.account;
  id: string;
  agencyId: string;
  name: string;
  email?: string;
  phone?: string;
  timezone?: string;
  website?: string;
  address?: Address;
  /** An agency's: its plan's. A sub-account's: its allocation (what it may use: `featuresOf`). */
  features: Feature[];
  status: AccountStatus;
  createdAt: string;
  updatedAt: string;
  closedAt?: string;
}

/** An agency: `agencyId === id`. */
export interface AgencyItem extends AccountBase {
  type: 'agency';
  plan?: Plan;
  /** The owner confirmed the email (absent = not confirmed); nothing emails a third party before. */
  emailVerified?: boolean;
  /** Sub-accounts created so far (closed ones included), against the quota. */
  subAccountCount?: number;
  /** Plan changes that took features away, and when each feature last went (domain/features.ts). */
  planEpoch?: number;
  featureRevokedAt?: Partial<Record<Feature, number>>;
}

/** A sub-account of the agency `agencyId`. */
export interface SubAccountItem extends AccountBase {
  type: 'sub_account';
  /** Whether the client has a login (absent = true, as before the option existed). */
  clientLogin?: boolean;
  /** The agency's plan epoch its allocation was checked against. */
  featuresEpoch?: number;
  creditMode?: CreditMode;
  /** In manual mode: credits it may draw from the pool per UTC month. */
  monthlyCreditLimit?: number;
  /** In reselling mode: open a recharge request when the wallet drops below `threshold` (domain/recharge). */
  autoRecharge?: { enabled: boolean; threshold: number; credits: number };
}

/** An agency or a sub-account, told apart by `type`. */
export type AccountItem = AgencyItem | SubAccountItem;

/** What the code reads of an account, checked as it is read (the debit path pays these few checks). */
const accountFields = {
  id: 'string',
  agencyId: 'string',
  name: 'string',
  features: 'array',
  status: ['active', 'closed', 'suspended'],
  createdAt: 'string',
} as const;
const accountOptional = {
  plan: plans,
  emailVerified: 'boolean',
  subAccountCount: 'number',
  planEpoch: 'number',
  clientLogin: 'boolean',
  creditMode: ['manual', 'reselling'],
  monthlyCreditLimit: 'number',
} as const;
export const accountShape = itemShape<AccountItem>(
  itemKinds.account,
  { ...accountFields, type: ['agency', 'sub_account'] },
  accountOptional,
);
/** An agency's own item (read by the agency's id: a sub-account there is malformed). */
export const agencyShape = itemShape<AgencyItem>(itemKinds.account, { ...accountFields, type: ['agency'] }, accountOptional);
/** A sub-account list's items: an agency there is as malformed as a missing field. */
export const subAccountShape = itemShape<SubAccountItem>(
  itemKinds.account,
  { ...accountFields, type: ['sub_account'] },
  accountOptional,
);
/** The switcher's projection of a sub-account (`kind` is projected too, so the item says what it is). */
const switcherShape = itemShape<SwitcherFields>(itemKinds.account, {
  id: 'string',
  name: 'string',
  type: ['agency', 'sub_account'],
  status: ['active', 'closed', 'suspended'],
});

/** An account's partition: the account item, and beside it its balance, settings, alerts, campaigns, purchase keys. */
export const accountPartition = (accountId: string) => `${keyPrefixes.account}${accountId}`;
/** The account id of a key in an account's partition (a balance's, as a stream record or a lane carries it). */
export const accountIdOf = (pk: string) => pk.slice(keyPrefixes.account.length);
export const accountKey = (accountId: string): Key => ({ pk: accountPartition(accountId), sk: 'ACCOUNT' });
/** gsi1 partition listing an agency's sub-accounts, oldest first (ids are time ordered). */
const subAccountsPartition = (agencyId: string) => `AGENCY#${agencyId}#SUBS`;
/**
 * gsi2 partition listing an agency's sub-accounts in reselling mode, oldest first: sparse, the
 * keys are set while the account is in reselling mode (a switch sets or removes them), so the
 * reselling dashboard reads its rows and no manual sub-account.
 */
const resellingPartition = (agencyId: string) => `AGENCY#${agencyId}#RESELLING`;

export const getAccount = (accountId: string) => getItem(accountKey(accountId), accountShape);

/** A new account; a sub-account is also listed under its agency. */
export function putAccount(account: AccountItem): TransactItem {
  const index = account.type === 'sub_account' ? { gsi1pk: subAccountsPartition(account.agencyId), gsi1sk: account.id } : {};
  return {
    Put: {
      TableName: table(),
      Item: stored(account, accountKey(account.id), index),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

/** The condition every write to a live account carries: closed accounts keep their history but take nothing new. */
export const accountIsActive = {
  expression: '#status = :active',
  names: { '#status': 'status' },
  values: { ':active': 'active' },
} as const;

export function listSubAccounts(agencyId: string, page: { limit: number; cursor?: string }) {
  return queryPage({ index: true, partition: subAccountsPartition(agencyId), ...page }, subAccountShape);
}

/** The agency's sub-accounts in reselling mode, oldest first: one query of its sparse list. */
export function listResellingSubAccounts(agencyId: string, page: { limit: number; cursor?: string }) {
  return queryPage({ index: 'gsi2', partition: resellingPartition(agencyId), ...page }, subAccountShape);
}

/** The agency's active sub-accounts (closed ones are skipped as DynamoDB reads: a page may hold fewer than `limit`). */
export function listActiveSubAccounts(agencyId: string, page: { limit: number; cursor?: string }) {
  return queryPage({ index: true, partition: subAccountsPartition(agencyId), filter: accountIsActive, ...page }, subAccountShape);
}

/** What the account switcher shows of an account. */
export type SwitcherFields = Pick<AccountItem, 'id' | 'name' | 'type' | 'status'>;

/** The agency's active sub-accounts as the switcher shows them: those attributes only, not the whole items. */
export function listActiveSwitcherEntries(agencyId: string, page: { limit: number; cursor?: string }) {
  return queryPage(
    {
      index: true,
      partition: subAccountsPartition(agencyId),
      filter: accountIsActive,
      attributes: ['kind', 'id', 'name', 'type', 'status'],
      ...page,
    },
    switcherShape,
  );
}

export interface AccountChanges {
  /** Plain attributes to set (name, features, creditMode…). */
  set: Partial<Pick<SubAccountItem, 'name' | 'features' | 'featuresEpoch' | 'creditMode' | 'autoRecharge'>>;
  /** Only while the account is in this credit mode (auto-recharge needs reselling). */
  requireMode?: CreditMode;
  /** The account's agency: where a switch to reselling lists it. */
  agencyId: string;
  /** A number sets the monthly limit, null removes it (the meter's side goes in `also`: meter.ts `meterLimitWrite`). */
  monthlyCreditLimit?: number | null;
  /**
   * Only if the account still draws on its credits as read (mode, and whether it has a limit): a
   * change of either must know exactly what it changes from, to close what the old standing
   * allowed (packages/domain/ledger/standing.ts). `{ stale: true }` when it moved meanwhile.
   */
  standing?: Standing;
  at: string;
}

export interface Standing {
  creditMode: CreditMode;
  hasLimit: boolean;
}

export const standingOf = (a: Pick<SubAccountItem, 'creditMode' | 'monthlyCreditLimit'>): Standing => ({
  creditMode: a.creditMode ?? 'manual',
  hasLimit: typeof a.monthlyCreditLimit === 'number',
});

/**
 * Applies changes to an active account (in `requireMode`, when given), with `also` (the audit
 * record) in the same transaction: `{ applied }` when written, undefined when it is not active
 * (closed), `{ wrongMode }` when it is in another credit mode, `{ stale }` when its standing, or
 * a field this changes, moved since `seen` was read (the caller reads again and recomputes).
 */
export async function updateActiveAccount(
  seen: SubAccountItem,
  changes: AccountChanges,
  also: NamedItem[] = [],
): Promise<{ applied: true } | { wrongMode: true } | { stale: true } | undefined> {
  const accountId = seen.id;
  const set: Record<string, unknown> = { ...changes.set, updatedAt: changes.at };
  const names = Object.keys(set).filter((n) => set[n] !== undefined);
  const clauses = names.map((n) => `#${n} = :${n}`);
  const values: Record<string, unknown> = Object.fromEntries(names.map((n) => [`:${n}`, set[n]]));
  const removed: string[] = [];
  if (changes.set.creditMode === 'reselling') {
    clauses.push('gsi2pk = :resellingList, gsi2sk = :resellingId');
    Object.assign(values, { ':resellingList': resellingPartition(changes.agencyId), ':resellingId': accountId });
  } else if (changes.set.creditMode === 'manual') removed.push('gsi2pk', 'gsi2sk');
  if (typeof changes.monthlyCreditLimit === 'number') {
    clauses.push('monthlyCreditLimit = :limit');
    values[':limit'] = changes.monthlyCreditLimit;
  } else if (changes.monthlyCreditLimit === null) removed.push('monthlyCreditLimit');
  // The audit record's "before" must be what this write replaced: each field it changes still holds what was seen.
  const touched = [
    ...names.filter((n) => n !== 'updatedAt'),
    ...(changes.monthlyCreditLimit !== undefined ? ['monthlyCreditLimit'] : []),
  ];
  const asSeen = touched.map((n) => {
    const was = (seen as unknown as Record<string, unknown>)[n];
    if (was === undefined) return `attribute_not_exists(#seen_${n})`;
    values[`:seen_${n}`] = was;
    return `#seen_${n} = :seen_${n}`;
  });
  const remove = removed.length ? ` REMOVE ${removed.join(', ')}` : '';
  const result = await committedOrStale([
    {
      name: 'account',
      write: {
        Update: {
          TableName: table(),
          Key: accountKey(accountId),
          UpdateExpression: `SET ${clauses.join(', ')}${remove}`,
          ConditionExpression: [
            accountIsActive.expression,
            ...(changes.requireMode ? ['#requiredMode = :requiredMode'] : []),
            ...(changes.standing ? standingConditions(changes.standing) : []),
            ...asSeen,
          ].join(' AND '),
          ExpressionAttributeNames: {
            ...accountIsActive.names,
            ...Object.fromEntries(names.map((n) => [`#${n}`, n])),
            ...Object.fromEntries(touched.map((n) => [`#seen_${n}`, n])),
            ...(changes.requireMode ? { '#requiredMode': 'creditMode' } : {}),
            ...(changes.standing ? { '#standingMode': 'creditMode' } : {}),
          },
          ExpressionAttributeValues: {
            ...accountIsActive.values,
            ...values,
            ...(changes.requireMode ? { ':requiredMode': changes.requireMode } : {}),
            ...(changes.standing ? { ':standingMode': changes.standing.creditMode } : {}),
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    },
    ...also,
  ]);
  switch (result.kind) {
    case 'committed':
      return { applied: true };
    case 'stale': {
      const failed = result.failed.account;
      if (!failed) return throwing(result);
      const old = parseFound(accountShape, failed.old);
      if (old?.type !== 'sub_account' || old.status !== 'active') return undefined;
      const now = standingOf(old);
      if (changes.standing && (now.creditMode !== changes.standing.creditMode || now.hasLimit !== changes.standing.hasLimit))
        return { stale: true };
      if (changes.requireMode && (old.creditMode ?? 'manual') !== changes.requireMode) return { wrongMode: true };
      return { stale: true };
    }
    default:
      return unhandled(result);
  }
}

/**
 * Marks an active account closed, with `also` (the audit record) in the same transaction;
 * false when it was not active (closed already: closing changes nothing then).
 */
export async function closeAccount(accountId: string, at: string, also: NamedItem[] = []): Promise<boolean> {
  return transactIf('account', [
    {
      name: 'account',
      write: {
        Update: {
          TableName: table(),
          Key: accountKey(accountId),
          UpdateExpression: 'SET #status = :closed, closedAt = :now, updatedAt = :now',
          ConditionExpression: accountIsActive.expression,
          ExpressionAttributeNames: accountIsActive.names,
          ExpressionAttributeValues: { ...accountIsActive.values, ':closed': 'closed', ':now': at },
        },
      },
    },
    ...also,
  ]);
}

/** The conditions that the account still stands as seen (absent mode counts as manual). */
function standingConditions(s: Standing): string[] {
  return [
    s.creditMode === 'manual'
      ? '(#standingMode = :standingMode OR attribute_not_exists(#standingMode))'
      : '#standingMode = :standingMode',
    s.hasLimit ? 'attribute_exists(monthlyCreditLimit)' : 'attribute_not_exists(monthlyCreditLimit)',
  ];
}

export interface AgencyChanges {
  /** A new plan with the features and plan history it brings (`changePlan`). */
  plan?: Pick<AgencyItem, 'plan' | 'features' | 'planEpoch' | 'featureRevokedAt'>;
  status?: 'active' | 'suspended';
  at: string;
}

/**
 * Applies the platform's changes to an agency in ONE write, so its plan, features and
 * revocation record change together, with what goes with it (its audit record). Conditioned on
 * the plan, epoch and status it was computed from (so the record's "before" is what was
 * replaced); false when another change got there first (read again and recompute).
 */
export function updateAgency(
  agency: Pick<AgencyItem, 'id' | 'plan' | 'planEpoch' | 'status'>,
  changes: AgencyChanges,
  also: NamedItem[],
): Promise<boolean> {
  const set: Record<string, unknown> = { ...changes.plan, status: changes.status, updatedAt: changes.at };
  const names = Object.keys(set).filter((n) => set[n] !== undefined);
  const seenEpoch = agency.planEpoch ?? 0;
  const conditions = [
    '#type = :agency',
    '#status = :seenStatus',
    agency.plan === undefined ? 'attribute_not_exists(#plan)' : '#plan = :seenPlan',
    seenEpoch ? '#planEpoch = :seenEpoch' : '(attribute_not_exists(#planEpoch) OR #planEpoch = :seenEpoch)',
  ];
  const values: Record<string, unknown> = {
    ':agency': 'agency',
    ':seenStatus': agency.status,
    ':seenEpoch': seenEpoch,
    ...(agency.plan === undefined ? {} : { ':seenPlan': agency.plan }),
    ...Object.fromEntries(names.map((n) => [`:${n}`, set[n]])),
  };
  return transactIf('agency', [
    {
      name: 'agency',
      write: {
        Update: {
          TableName: table(),
          Key: accountKey(agency.id),
          UpdateExpression: `SET ${names.map((n) => `#${n}_ = :${n}`).join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: {
            '#type': 'type',
            '#plan': 'plan',
            '#planEpoch': 'planEpoch',
            '#status': 'status',
            ...Object.fromEntries(names.map((n) => [`#${n}_`, n])),
          },
          ExpressionAttributeValues: values,
        },
      },
    },
    ...also,
  ]);
}

/** A check that the account is active and in the given credit mode (grants need reselling; absent means manual). */
export function checkActiveInMode(accountId: string, creditMode: CreditMode): TransactItem {
  const mode = creditMode === 'manual' ? '(creditMode = :mode OR attribute_not_exists(creditMode))' : 'creditMode = :mode';
  return {
    ConditionCheck: {
      TableName: table(),
      Key: accountKey(accountId),
      ConditionExpression: `${accountIsActive.expression} AND ${mode}`,
      ExpressionAttributeNames: accountIsActive.names,
      ExpressionAttributeValues: { ...accountIsActive.values, ':mode': creditMode },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** A check that the account is (still) closed. */
export function checkClosed(accountId: string): TransactItem {
  return {
    ConditionCheck: {
      TableName: table(),
      Key: accountKey(accountId),
      ConditionExpression: '#status = :closed',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':closed': 'closed' },
    },
  };
}

/** A check that the account is active, of this agency, and has the campaigns feature (a campaign copy's target). */
export function checkCanHoldCampaigns(accountId: string, agencyId: string): TransactItem {
  return {
    ConditionCheck: {
      TableName: table(),
      Key: accountKey(accountId),
      ConditionExpression: `${accountIsActive.expression} AND contains(#features, :feature) AND agencyId = :agencyId`,
      ExpressionAttributeNames: { ...accountIsActive.names, '#features': 'features' },
      ExpressionAttributeValues: { ...accountIsActive.values, ':feature': 'campaigns', ':agencyId': agencyId },
    },
  };
}

/** Marks the agency's email verified (idempotent). */
export function markEmailVerified(agencyId: string, at: string): NamedItem<'agency'> {
  return {
    name: 'agency',
    write: {
      Update: {
        TableName: table(),
        Key: accountKey(agencyId),
        UpdateExpression: 'SET emailVerified = :true, updatedAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':true': true, ':at': at },
      },
    },
  };
}

/**
 * One more sub-account for the agency: only once its email is verified and while it is under
 * its quota. The refusal is told apart from the agency as it was (no second read).
 */
export function countSubAccount(
  agencyId: string,
  quota: number,
  refusal: (agency: AccountItem | undefined) => Error,
): NamedItem<'agency'> {
  return {
    name: 'agency',
    write: {
      Update: {
        TableName: table(),
        Key: accountKey(agencyId),
        UpdateExpression: 'ADD subAccountCount :one',
        ConditionExpression: 'emailVerified = :true AND (attribute_not_exists(subAccountCount) OR subAccountCount < :quota)',
        ExpressionAttributeValues: { ':one': 1, ':true': true, ':quota': quota },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
    onConditionFailed: (old) => refusal(old as AccountItem | undefined),
  };
}

/** Gives an active sub-account's client a login (credentials issued). */
export function enableClientLogin(subAccountId: string, at: string, onNotActive: () => Error): NamedItem<'subAccount'> {
  return {
    name: 'subAccount',
    write: {
      Update: {
        TableName: table(),
        Key: accountKey(subAccountId),
        UpdateExpression: 'SET clientLogin = :true, updatedAt = :at',
        ConditionExpression: accountIsActive.expression,
        ExpressionAttributeNames: accountIsActive.names,
        ExpressionAttributeValues: { ...accountIsActive.values, ':true': true, ':at': at },
      },
    },
    onConditionFailed: onNotActive,
  };
}

/**
 * A closed sub-account active again, without a client login until credentials are issued
 * (`enableClientLogin`); `onNotClosed` when it is not closed.
 */
export function reopenAccount(subAccountId: string, at: string, onNotClosed: () => Error): NamedItem<'subAccount'> {
  return {
    name: 'subAccount',
    write: {
      Update: {
        TableName: table(),
        Key: accountKey(subAccountId),
        UpdateExpression: 'SET #status = :active, clientLogin = :false, updatedAt = :at REMOVE closedAt',
        ConditionExpression: '#status = :closed',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':active': 'active', ':closed': 'closed', ':false': false, ':at': at },
      },
    },
    onConditionFailed: onNotClosed,
  };
}

/** The agency is within its quota with the sub-accounts it counts (closed ones count: a reopened one adds none). */
export function checkWithinQuota(agencyId: string, quota: number, onOver: () => Error): NamedItem<'agency'> {
  return {
    name: 'agency',
    write: {
      ConditionCheck: {
        TableName: table(),
        Key: accountKey(agencyId),
        ConditionExpression: 'attribute_not_exists(subAccountCount) OR subAccountCount <= :quota',
        ExpressionAttributeValues: { ':quota': quota },
      },
    },
    onConditionFailed: onOver,
  };
}
