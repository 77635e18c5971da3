import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { getItem } from '../read';
import { itemKinds, type Key, stored } from '../schema';
import { ConditionsFailed, transact } from '../transact';

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
  pricing?: StoredPricing;
  createdAt: string;
  updatedAt: string;
}

export interface StripeAccountItem {
  kind: typeof itemKinds.stripeAccount;
  stripeAccountId: string;
  agencyId: string;
  createdAt: string;
}

export const resellingSettingsKey = (agencyId: string): Key => ({ pk: `ACCOUNT#${agencyId}`, sk: 'RESELLING' });
export const stripeAccountKey = (stripeAccountId: string): Key => ({
  pk: `STRIPE_ACCOUNT#${stripeAccountId}`,
  sk: 'STRIPE_ACCOUNT',
});

export const getResellingSettings = (agencyId: string) => getItem<ResellingSettingsItem>(resellingSettingsKey(agencyId));
export const getStripeAccountOwner = (stripeAccountId: string) => getItem<StripeAccountItem>(stripeAccountKey(stripeAccountId));

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
  replacing?: string,
): Promise<boolean> {
  const owner: StripeAccountItem = { kind: itemKinds.stripeAccount, stripeAccountId, agencyId, createdAt: at };
  try {
    await transact<'settings' | 'owner'>([
      {
        name: 'settings',
        write: {
          Update: {
            TableName: table(),
            Key: resellingSettingsKey(agencyId),
            // A replacement starts over; a first record (or its retry) keeps what events already set.
            UpdateExpression: replacing
              ? `SET #acct = :acct, #charges = :false, #details = :false, ${createdClauses} REMOVE #eventCreated`
              : `SET #acct = :acct, #charges = if_not_exists(#charges, :false), #details = if_not_exists(#details, :false), ${createdClauses}`,
            ConditionExpression: replacing ? '#acct = :replacing' : 'attribute_not_exists(#acct) OR #acct = :acct',
            ExpressionAttributeNames: {
              ...created,
              '#acct': 'stripeAccountId',
              '#charges': 'chargesEnabled',
              '#details': 'detailsSubmitted',
              ...(replacing ? { '#eventCreated': 'stripeEventCreated' } : {}),
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
    ]);
    return true;
  } catch (err) {
    if (err instanceof ConditionsFailed && err.failed('settings')) return false;
    throw err;
  }
}

/**
 * Applies an `account.updated` event to the agency owning the account: only while that account
 * is still the agency's, and only if no later event was applied (events may arrive in any order).
 */
export async function applyAccountState(
  agencyId: string,
  stripeAccountId: string,
  state: { chargesEnabled: boolean; detailsSubmitted: boolean; eventCreated: number; at: string },
): Promise<boolean> {
  try {
    await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: resellingSettingsKey(agencyId),
        UpdateExpression: 'SET #charges = :charges, #details = :details, #eventCreated = :created, #updatedAt = :now',
        ConditionExpression: '#acct = :acct AND (attribute_not_exists(#eventCreated) OR #eventCreated <= :created)',
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
    );
    return true;
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

/** Replaces the agency's pricing (settings created if absent); returns the settings as stored. */
export async function savePricing(agencyId: string, pricing: StoredPricing, at: string): Promise<ResellingSettingsItem> {
  const out = await db.send(
    new UpdateCommand({
      TableName: table(),
      Key: resellingSettingsKey(agencyId),
      UpdateExpression: `SET #pricing = :pricing, ${createdClauses}`,
      ExpressionAttributeNames: { ...created, '#pricing': 'pricing' },
      ExpressionAttributeValues: { ':pricing': pricing, ':kind': itemKinds.resellingSettings, ':agencyId': agencyId, ':now': at },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return out.Attributes as ResellingSettingsItem;
}
