import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { ifConditionHolds } from '../conditions';
import { itemShape } from '../item-shape';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import { type NamedItem, type TransactItem, transactIf } from '../transact';
import { accountPartition } from './account';

/**
 * An agency's reselling settings: its connected Stripe account (kept current by Stripe's
 * `account.updated` events) and its pricing. Beside it, one lookup item per connected account
 * names the agency that owns it, so an event's `account` leads to exactly one agency.
 */
export interface StoredPackage {
  id: string;
  name: string;
  credits: number;
  /** Minor units of the pricing currency. */
  price: number;
}

export interface StoredPricing {
  currency: string;
  /** Decimal minor units, canonical text (money.ts). */
  perCreditPrice: string;
  packages: StoredPackage[];
}

export interface ResellingSettingsItem {
  kind: typeof itemKinds.resellingSettings;
  agencyId: string;
  stripeAccountId?: string;
  chargesEnabled?: boolean;
  detailsSubmitted?: boolean;
  /** `created` of the last account.updated applied: an older event arriving late changes nothing. */
  stripeEventCreated?: number;
  /** The agency disconnected the platform from this account (account.application.deauthorized): it sells nothing until it connects again. */
  deauthorizedAt?: string;
  pricing?: StoredPricing;
  /** Raised by each pricing write, so one is made over the pricing it read (its audit record's "before"). */
  pricingVersion?: number;
  /** The custom payment provider's auto-recharge endpoint (domain/recharge). */
  autoRechargeWebhook?: StoredWebhookEndpoint;
  createdAt: string;
  updatedAt: string;
}
export const resellingSettingsShape = itemShape<ResellingSettingsItem>(
  itemKinds.resellingSettings,
  { agencyId: 'string' },
  {
    stripeAccountId: 'string',
    chargesEnabled: 'boolean',
    pricing: 'object',
    pricingVersion: 'number',
    autoRechargeWebhook: 'object',
  },
);

export interface StoredWebhookEndpoint {
  /** Normalized (lower-case host, punycode), checked when saved. */
  url: string;
  enabled: boolean;
  /** Why it was turned off (the receiver answered 410). */
  disabledReason?: string;
  /** `{current, previous?: {secret, rotatedAt}}` as JSON, sealed (crypto/secret-box): never in clear at rest. */
  sealedSecrets: string;
  createdAt: string;
  updatedAt: string;
}

export interface StripeAccountItem {
  kind: typeof itemKinds.stripeAccount;
  stripeAccountId: string;
  agencyId: string;
  createdAt: string;
}
export const stripeAccountShape = itemShape<StripeAccountItem>(itemKinds.stripeAccount, {
  stripeAccountId: 'string',
  agencyId: 'string',
});

export const resellingSettingsKey = (agencyId: string): Key => ({ pk: accountPartition(agencyId), sk: 'RESELLING' });
export const stripeAccountKey = (stripeAccountId: string): Key => ({
  pk: `${keyPrefixes.stripeAccount}${stripeAccountId}`,
  sk: 'STRIPE_ACCOUNT',
});

export const getResellingSettings = (agencyId: string) => getItem(resellingSettingsKey(agencyId), resellingSettingsShape);
export const getStripeAccountOwner = (stripeAccountId: string) => getItem(stripeAccountKey(stripeAccountId), stripeAccountShape);

const created = { '#kind': 'kind', '#agencyId': 'agencyId', '#createdAt': 'createdAt', '#updatedAt': 'updatedAt' };
const createdClauses = '#kind = :kind, #agencyId = :agencyId, #createdAt = if_not_exists(#createdAt, :now), #updatedAt = :now';

/**
 * Records the agency's connected account, and which agency owns it, in one transaction. The
 * settings take it only if they have none yet, or `replacing` (an account Stripe no longer
 * knows); false when another account was recorded first (the caller reads it and uses that).
 */
export async function recordStripeAccount(
  agencyId: string,
  stripeAccountId: string,
  at: string,
  replacing: string | undefined,
  /** Its audit record: written with it, or not at all. */
  also: NamedItem[],
): Promise<boolean> {
  const owner: StripeAccountItem = { kind: itemKinds.stripeAccount, stripeAccountId, agencyId, createdAt: at };
  return transactIf('settings', [
    {
      name: 'settings',
      write: {
        Update: {
          TableName: table(),
          Key: resellingSettingsKey(agencyId),
          // A replacement starts over; a first record (or its retry) keeps what events already set.
          UpdateExpression: replacing
            ? `SET #acct = :acct, #charges = :false, #details = :false, ${createdClauses} REMOVE #eventCreated, #deauthorized`
            : `SET #acct = :acct, #charges = if_not_exists(#charges, :false), #details = if_not_exists(#details, :false), ${createdClauses}`,
          ConditionExpression: replacing ? '#acct = :replacing' : 'attribute_not_exists(#acct) OR #acct = :acct',
          ExpressionAttributeNames: {
            ...created,
            '#acct': 'stripeAccountId',
            '#charges': 'chargesEnabled',
            '#details': 'detailsSubmitted',
            ...(replacing ? { '#eventCreated': 'stripeEventCreated', '#deauthorized': 'deauthorizedAt' } : {}),
          },
          ExpressionAttributeValues: {
            ':acct': stripeAccountId,
            ':false': false,
            ':kind': itemKinds.resellingSettings,
            ':agencyId': agencyId,
            ':now': at,
            ...(replacing ? { ':replacing': replacing } : {}),
          },
        },
      },
    },
    {
      name: 'owner',
      write: {
        Put: {
          TableName: table(),
          Item: stored(owner, stripeAccountKey(stripeAccountId)),
          ConditionExpression: 'attribute_not_exists(pk) OR agencyId = :agencyId',
          ExpressionAttributeValues: { ':agencyId': agencyId },
        },
      },
    },
    ...also,
  ]);
}

/**
 * Applies an `account.updated` event to the agency owning the account: only while that account
 * is still the agency's, not disconnected, and only if no later event was applied (events may
 * arrive in any order).
 */
export async function applyAccountState(
  agencyId: string,
  stripeAccountId: string,
  state: { chargesEnabled: boolean; detailsSubmitted: boolean; eventCreated: number; at: string },
): Promise<boolean> {
  const written = await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: resellingSettingsKey(agencyId),
        UpdateExpression: 'SET #charges = :charges, #details = :details, #eventCreated = :created, #updatedAt = :now',
        ConditionExpression:
          '#acct = :acct AND attribute_not_exists(deauthorizedAt) AND (attribute_not_exists(#eventCreated) OR #eventCreated <= :created)',
        ExpressionAttributeNames: {
          '#acct': 'stripeAccountId',
          '#charges': 'chargesEnabled',
          '#details': 'detailsSubmitted',
          '#eventCreated': 'stripeEventCreated',
          '#updatedAt': 'updatedAt',
        },
        ExpressionAttributeValues: {
          ':acct': stripeAccountId,
          ':charges': state.chargesEnabled,
          ':details': state.detailsSubmitted,
          ':created': state.eventCreated,
          ':now': state.at,
        },
      }),
    ),
  );
  return written !== undefined;
}

/**
 * The agency disconnected the platform from its account: charges off for good (no later
 * account.updated turns them on again); connecting again replaces the account. False when the
 * settings name another account by now.
 */
export async function markAccountDeauthorized(agencyId: string, stripeAccountId: string, at: string): Promise<boolean> {
  const written = await ifConditionHolds(
    db.send(
      new UpdateCommand({
        TableName: table(),
        Key: resellingSettingsKey(agencyId),
        UpdateExpression: 'SET #charges = :false, deauthorizedAt = if_not_exists(deauthorizedAt, :now), #updatedAt = :now',
        ConditionExpression: '#acct = :acct',
        ExpressionAttributeNames: { '#acct': 'stripeAccountId', '#charges': 'chargesEnabled', '#updatedAt': 'updatedAt' },
        ExpressionAttributeValues: { ':acct': stripeAccountId, ':false': false, ':now': at },
      }),
    ),
  );
  return written !== undefined;
}

/**
 * Replaces the agency's pricing (settings created if absent), only over the pricing version it
 * read (`seenVersion`; undefined: none yet), with what goes with it; false when another write
 * got there first (nothing written).
 */
export function savePricing(
  agencyId: string,
  pricing: StoredPricing,
  at: string,
  seenVersion: number | undefined,
  also: NamedItem[],
): Promise<boolean> {
  return transactIf('pricing', [
    {
      name: 'pricing',
      write: {
        Update: {
          TableName: table(),
          Key: resellingSettingsKey(agencyId),
          UpdateExpression: `SET #pricing = :pricing, #version = :next, ${createdClauses}`,
          ConditionExpression: seenVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :seen',
          ExpressionAttributeNames: { ...created, '#pricing': 'pricing', '#version': 'pricingVersion' },
          ExpressionAttributeValues: {
            ':pricing': pricing,
            ':next': (seenVersion ?? 0) + 1,
            ':kind': itemKinds.resellingSettings,
            ':agencyId': agencyId,
            ':now': at,
            ...(seenVersion === undefined ? {} : { ':seen': seenVersion }),
          },
        },
      },
    },
    ...also,
  ]);
}

const endpointNames = { ...created, '#ep': 'autoRechargeWebhook' };

/** Creates the endpoint with its first secret, with what goes with it; false when one exists already. */
export function createWebhookEndpoint(agencyId: string, endpoint: StoredWebhookEndpoint, also: NamedItem[]): Promise<boolean> {
  return updateEndpointIf(
    agencyId,
    {
      UpdateExpression: `SET #ep = :ep, ${createdClauses}`,
      ConditionExpression: 'attribute_not_exists(#ep)',
      ExpressionAttributeNames: endpointNames,
      ExpressionAttributeValues: {
        ':ep': endpoint,
        ':kind': itemKinds.resellingSettings,
        ':agencyId': agencyId,
        ':now': endpoint.updatedAt,
      },
    },
    also,
  );
}

/** The names the endpoint's field updates use: the endpoint map and its fields. */
const endpointFieldNames = {
  '#ep': 'autoRechargeWebhook',
  '#url': 'url',
  '#enabled': 'enabled',
  '#reason': 'disabledReason',
  '#updatedAt': 'updatedAt',
};

/**
 * Points the endpoint read (`seen`: its URL and state) at `url` and turns it on again (the
 * secret stays), with what goes with it; false when it is gone or changed meanwhile.
 */
export function updateWebhookEndpointUrl(
  agencyId: string,
  seen: Pick<StoredWebhookEndpoint, 'url' | 'enabled'>,
  url: string,
  at: string,
  also: NamedItem[],
): Promise<boolean> {
  return updateEndpointIf(
    agencyId,
    {
      UpdateExpression: 'SET #ep.#url = :url, #ep.#enabled = :true, #ep.#updatedAt = :now, #updatedAt = :now REMOVE #ep.#reason',
      ConditionExpression: '#ep.#url = :seenUrl AND #ep.#enabled = :seenEnabled',
      ExpressionAttributeNames: endpointFieldNames,
      ExpressionAttributeValues: {
        ':url': url,
        ':true': true,
        ':now': at,
        ':seenUrl': seen.url,
        ':seenEnabled': seen.enabled,
      },
    },
    also,
  );
}

/** Replaces the sealed secrets, on condition they are still those the rotation started from, with what goes with it. */
export function replaceWebhookSecrets(
  agencyId: string,
  seen: string,
  sealed: string,
  at: string,
  also: NamedItem[],
): Promise<boolean> {
  return updateEndpointIf(
    agencyId,
    {
      UpdateExpression: 'SET #ep.#secrets = :sealed, #ep.#updatedAt = :now',
      ConditionExpression: '#ep.#secrets = :seen',
      ExpressionAttributeNames: { '#ep': 'autoRechargeWebhook', '#secrets': 'sealedSecrets', '#updatedAt': 'updatedAt' },
      ExpressionAttributeValues: { ':sealed': sealed, ':seen': seen, ':now': at },
    },
    also,
  );
}

/**
 * Turns the endpoint off (a 410 from it), only while it is on and still has the URL that
 * answered: a second 410, or one from an address since replaced, changes nothing (and the
 * transaction it is in, with its email, is refused).
 */
export const disableWebhookEndpoint = (agencyId: string, url: string, reason: string, at: string): NamedItem<'endpoint'> => ({
  name: 'endpoint',
  write: {
    Update: {
      TableName: table(),
      Key: resellingSettingsKey(agencyId),
      UpdateExpression: 'SET #ep.#enabled = :false, #ep.#reason = :reason, #ep.#updatedAt = :now',
      ConditionExpression: '#ep.#url = :url AND #ep.#enabled = :true',
      ExpressionAttributeNames: endpointFieldNames,
      ExpressionAttributeValues: { ':false': false, ':true': true, ':reason': reason, ':url': url, ':now': at },
    },
  },
});

/** Removes the endpoint read (at `seenUrl`) and its secrets, with what goes with it; false when it changed meanwhile. */
export function deleteWebhookEndpoint(agencyId: string, seenUrl: string, also: NamedItem[]): Promise<boolean> {
  return updateEndpointIf(
    agencyId,
    {
      UpdateExpression: 'REMOVE #ep',
      ConditionExpression: '#ep.#url = :seenUrl',
      ExpressionAttributeNames: { '#ep': 'autoRechargeWebhook', '#url': 'url' },
      ExpressionAttributeValues: { ':seenUrl': seenUrl },
    },
    also,
  );
}

/** One conditional update of the agency's auto-recharge endpoint, with what goes with it (its audit record): whether it held. */
function updateEndpointIf(
  agencyId: string,
  update: Omit<NonNullable<TransactItem['Update']>, 'TableName' | 'Key'>,
  also: NamedItem[],
): Promise<boolean> {
  return transactIf('endpoint', [
    { name: 'endpoint', write: { Update: { TableName: table(), Key: resellingSettingsKey(agencyId), ...update } } },
    ...also,
  ]);
}
