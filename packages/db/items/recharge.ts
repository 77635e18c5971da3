import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { itemShape } from '../item-shape';
import { queryPage } from '../query';
import { getItem } from '../read';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { NamedItem, TransactItem } from '../transact';

/**
 * Auto-recharge requests (`rrq_…`), in the agency's RECHARGE# partition (listed newest first),
 * and beside them one state item per sub-account: the request open now (at most one: opening is
 * conditional on it) and the day's count against the daily cap.
 */
export type RechargeStatus = 'open' | 'fulfilled' | 'expired';

export interface RechargeRequestItem {
  kind: typeof itemKinds.rechargeRequest;
  id: string;
  agencyId: string;
  subAccountId: string;
  /** Stored `open` or `fulfilled`; an open one past `expiresAt` is expired (views say so). */
  status: 'open' | 'fulfilled';
  creditsRequested: number;
  balanceAtTrigger: number;
  threshold: number;
  createdAt: string;
  expiresAt: string;
  fulfilledAt?: string;
  /** The grant's ledger entry that fulfilled it. */
  fulfilledBy?: string;
  deliveryId?: string;
}
export const rechargeRequestShape = itemShape<RechargeRequestItem>(itemKinds.rechargeRequest, {
  id: 'string',
  agencyId: 'string',
  subAccountId: 'string',
  status: ['open', 'fulfilled'],
  creditsRequested: 'number',
  expiresAt: 'string',
});

export interface RechargeStateItem {
  kind: typeof itemKinds.rechargeState;
  agencyId: string;
  subAccountId: string;
  openRequestId?: string;
  /** Epoch ms: past it, the open request no longer blocks a new one. */
  openExpiresAt?: number;
  /** The UTC day `dayCount` counts, and the day the agency was last told the cap was reached. */
  day?: string;
  dayCount?: number;
  capNotifiedDay?: string;
}
export const rechargeStateShape = itemShape<RechargeStateItem>(
  itemKinds.rechargeState,
  { agencyId: 'string', subAccountId: 'string' },
  { openRequestId: 'string', openExpiresAt: 'number', dayCount: 'number' },
);

const partition = (agencyId: string) => `${keyPrefixes.recharge}${agencyId}`;
export const rechargeRequestKey = (agencyId: string, requestId: string): Key => ({ pk: partition(agencyId), sk: requestId });
export const rechargeStateKey = (agencyId: string, subAccountId: string): Key => ({
  pk: partition(agencyId),
  sk: `STATE#${subAccountId}`,
});

export const getRechargeRequest = (agencyId: string, id: string) =>
  getItem(rechargeRequestKey(agencyId, id), rechargeRequestShape);
export const getRechargeState = (agencyId: string, subAccountId: string) =>
  getItem(rechargeStateKey(agencyId, subAccountId), rechargeStateShape);

export function putRechargeRequest(item: RechargeRequestItem): NamedItem<'request'> {
  return {
    name: 'request',
    write: {
      Put: {
        TableName: table(),
        Item: stored(item, rechargeRequestKey(item.agencyId, item.id)),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  };
}

/**
 * Takes the sub-account's one open slot for `requestId`, counting it against the day: on
 * condition that no request is open (or the open one expired) and, on the same day, that the
 * cap is not reached. `sameDay` says which form the count takes (the state as last read).
 */
export function takeOpenSlot(s: {
  agencyId: string;
  subAccountId: string;
  requestId: string;
  expiresAtMs: number;
  nowMs: number;
  day: string;
  sameDay: boolean;
  cap: number;
}): NamedItem<'state'> {
  const free = '(attribute_not_exists(openRequestId) OR openExpiresAt <= :now)';
  return {
    name: 'state',
    write: {
      Update: {
        TableName: table(),
        Key: rechargeStateKey(s.agencyId, s.subAccountId),
        UpdateExpression: s.sameDay
          ? 'SET openRequestId = :id, openExpiresAt = :exp, #kind = :kind, agencyId = :agency, subAccountId = :sub ADD dayCount :one'
          : 'SET openRequestId = :id, openExpiresAt = :exp, #kind = :kind, agencyId = :agency, subAccountId = :sub, #day = :day, dayCount = :one',
        ConditionExpression: s.sameDay
          ? `${free} AND #day = :day AND dayCount < :cap`
          : `${free} AND (attribute_not_exists(#day) OR #day <> :day)`,
        ExpressionAttributeNames: { '#kind': 'kind', '#day': 'day' },
        ExpressionAttributeValues: {
          ':id': s.requestId,
          ':exp': s.expiresAtMs,
          ':now': s.nowMs,
          ':kind': itemKinds.rechargeState,
          ':agency': s.agencyId,
          ':sub': s.subAccountId,
          ':day': s.day,
          ':one': 1,
          ...(s.sameDay ? { ':cap': s.cap } : {}),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
  };
}

/** Records that the agency was told today's cap was reached (once per day: the email goes with it). */
export function markCapNotified(agencyId: string, subAccountId: string, day: string): NamedItem<'capNotice'> {
  return {
    name: 'capNotice',
    write: {
      Update: {
        TableName: table(),
        Key: rechargeStateKey(agencyId, subAccountId),
        UpdateExpression: 'SET capNotifiedDay = :day',
        ConditionExpression: 'attribute_not_exists(capNotifiedDay) OR capNotifiedDay <> :day',
        ExpressionAttributeValues: { ':day': day },
      },
    },
  };
}

/**
 * A grant's fulfilment of an open request (in the grant's transaction): the request must be
 * this sub-account's, open and unexpired; the sub-account's slot is freed with it.
 */
export function fulfilRechargeRequest(f: {
  agencyId: string;
  subAccountId: string;
  requestId: string;
  at: string;
  entryId: string;
}): [NamedItem<'recharge'>, NamedItem<'rechargeState'>] {
  const request: TransactItem = {
    Update: {
      TableName: table(),
      Key: rechargeRequestKey(f.agencyId, f.requestId),
      UpdateExpression: 'SET #status = :fulfilled, fulfilledAt = :at, fulfilledBy = :entry',
      ConditionExpression: 'attribute_exists(pk) AND subAccountId = :sub AND #status = :open AND expiresAt > :at',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':fulfilled': 'fulfilled',
        ':open': 'open',
        ':at': f.at,
        ':entry': f.entryId,
        ':sub': f.subAccountId,
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
  const state: TransactItem = {
    Update: {
      TableName: table(),
      Key: rechargeStateKey(f.agencyId, f.subAccountId),
      UpdateExpression: 'REMOVE openRequestId, openExpiresAt',
      ConditionExpression: 'openRequestId = :id',
      ExpressionAttributeValues: { ':id': f.requestId },
    },
  };
  return [
    { name: 'recharge', write: request },
    { name: 'rechargeState', write: state },
  ];
}

/** Links the request to its delivery (for the list's readers; the delivery names the request too). */
export async function setRequestDelivery(agencyId: string, requestId: string, deliveryId: string): Promise<void> {
  await db.send(
    new UpdateCommand({
      TableName: table(),
      Key: rechargeRequestKey(agencyId, requestId),
      UpdateExpression: 'SET deliveryId = :d',
      ExpressionAttributeValues: { ':d': deliveryId },
    }),
  );
}

/**
 * The agency's requests, newest first, optionally for one sub-account and in one status. An
 * `expired` request is stored `open` with `expiresAt` passed, so the filter compares times.
 */
export function listRechargeRequests(
  agencyId: string,
  q: { limit: number; cursor?: string; subAccountId?: string; status?: RechargeStatus; nowIso: string },
) {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (q.subAccountId) {
    clauses.push('subAccountId = :sub');
    values[':sub'] = q.subAccountId;
  }
  if (q.status) {
    names['#status'] = 'status';
    if (q.status === 'fulfilled') clauses.push('#status = :fulfilled');
    else clauses.push(`#status = :open AND expiresAt ${q.status === 'open' ? '>' : '<='} :now`);
    Object.assign(values, q.status === 'fulfilled' ? { ':fulfilled': 'fulfilled' } : { ':open': 'open', ':now': q.nowIso });
  }
  return queryPage(
    {
      partition: partition(agencyId),
      sort: { beginsWith: 'rrq_' },
      newestFirst: true,
      limit: q.limit,
      cursor: q.cursor,
      maxReads: 10,
      ...(clauses.length ? { filter: { expression: clauses.join(' AND '), names, values } } : {}),
    },
    rechargeRequestShape,
  );
}
