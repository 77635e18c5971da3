import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { db, table } from '../client';
import { conditionFailed } from '../conditions';
import { itemShape } from '../item-shape';
import { getItems } from '../read';
import { itemKinds, type Key, keyPrefixes } from '../schema';
import type { TransactItem } from '../transact';

/**
 * A lane: credits (and, for a sub-account with a monthly limit, that month's allowance) set
 * aside from a balance for ONE container, so that a busy balance's debits write the lanes of
 * the containers serving them instead of all writing the balance item (see
 * packages/domain/ledger/lanes.ts). Only its owner debits a lane, so lanes never contend; a
 * lane lives under its own partition key, so a balance's write capacity grows with its lanes.
 *
 * Lanes of a balance are numbered 0…laneSlots−1 (the slot count is kept on the balance item),
 * so every lane of a balance can be read by key, with no index: the exact balance is the head
 * (the balance item) plus its lanes. A slot is free when no item is there.
 */
export interface LaneItem {
  kind: typeof itemKinds.lane;
  agencyId: string;
  /** The balance item the lane draws on (and gives back to). */
  headPk: string;
  headSk: string;
  slot: number;
  /** What the lane's debits are for: `P` the pool, `W` a wallet, `L<sub>` a sub-account with a monthly limit. */
  scope: string;
  credits: number;
  /** Credits its debits took while it was open: added to the balance's `consumed` when it closes. */
  spent?: number;
  /** `L` lanes: the monthly allowance set aside, valid in `month` only. */
  allowance?: number;
  month?: string;
  /** The container that owns it, until `leaseUntil` (epoch ms); each debit extends the lease. */
  owner: string;
  leaseUntil: number;
  /** The balance's fence when claimed: a fence moved since means the lane was closed. */
  fence: number;
}
export const laneShape = itemShape<LaneItem>(
  itemKinds.lane,
  {
    agencyId: 'string',
    headPk: 'string',
    headSk: 'string',
    slot: 'number',
    scope: 'string',
    credits: 'number',
    owner: 'string',
    leaseUntil: 'number',
    fence: 'number',
  },
  { spent: 'number', allowance: 'number', month: 'string' },
);

export const laneKey = (head: Key, slot: number): Key => ({ pk: `${keyPrefixes.lane}${head.pk}#${head.sk}#${slot}`, sk: 'LANE' });

/**
 * The owner of a lane that a claim filled ahead (lanes.ts): no container's yet, it waits for the
 * next container that needs a lane of its balance, which takes it (`takeLane`) without writing
 * the balance item.
 */
export const AHEAD = '(ahead)';

/**
 * The owner of a lane being closed with others in one transaction (closeLanes): nobody debits
 * or takes it any more, so the lanes a close read cannot move before it commits.
 */
export const CLOSING = '(closing)';

/**
 * Stops every debit and take of a lane (its owner becomes CLOSING, its lease over) and answers
 * it as it is now. Only a lane of `scope` still there (its slot may have been closed and claimed
 * again since it was read), and, when asked, idle before `idleBefore` or owned by `ownedBy`;
 * otherwise (or when a transaction held it each time) undefined.
 */
export async function freezeLane(
  head: Key,
  slot: number,
  scope: string,
  only: { idleBefore?: number; ownedBy?: string } = {},
): Promise<LaneItem | undefined> {
  const conditions = ['#scope = :scope'];
  if (only.idleBefore !== undefined) conditions.push('#lease < :idleBefore');
  if (only.ownedBy !== undefined) conditions.push('#owner = :ownedBy');
  try {
    const out = await db.send(
      new UpdateCommand({
        TableName: table(),
        Key: laneKey(head, slot),
        UpdateExpression: 'SET #owner = :closing, #lease = :zero',
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: { '#owner': 'owner', '#lease': 'leaseUntil', '#scope': 'scope' },
        ExpressionAttributeValues: {
          ':closing': CLOSING,
          ':scope': scope,
          ':zero': 0,
          ...(only.idleBefore === undefined ? {} : { ':idleBefore': only.idleBefore }),
          ...(only.ownedBy === undefined ? {} : { ':ownedBy': only.ownedBy }),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return out.Attributes ? laneShape.parse(out.Attributes) : undefined;
  } catch (err) {
    // Gone, no longer idle or owned as asked, or held by its owner's transactions every time:
    // the closer reads the balance's lanes again.
    if (conditionFailed(err) || (err as Error).name === 'TransactionConflictException') return undefined;
    throw err;
  }
}

/** Every lane of a balance that exists now (slots 0…slots−1), by slot. */
export const getLanes = (head: Key, slots: number): Promise<LaneItem[]> =>
  getLanesAt(
    head,
    Array.from({ length: Math.max(0, slots) }, (_, slot) => slot),
  );

/** The lanes of a balance in these slots that exist now, by slot. */
export async function getLanesAt(head: Key, slots: number[]): Promise<LaneItem[]> {
  const keys = slots.map((slot) => laneKey(head, slot));
  const found: LaneItem[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    const items = await getItems(keys.slice(i, i + 100));
    for (const item of items.values()) found.push(laneShape.parse(item));
  }
  return found.sort((a, b) => a.slot - b.slot);
}

export interface LaneDebit {
  head: Key;
  slot: number;
  scope: string;
  owner: string;
  /** Credits the debit takes; `gain` credits (and `allowanceGain`) arrive in the same write (a refill). */
  credits: number;
  gain: number;
  allowance?: { month: string; take: number; gain: number; resetTo?: number };
  leaseUntil: number;
}

/**
 * The owner's debit of its lane, with a refill riding on it when `gain` > 0: the lane must be
 * this owner's, of this scope, and hold the credits (and the month's allowance) the debit takes
 * once the refill is in. On a failed condition the lane comes back as it is (ALL_OLD).
 */
export function debitLane(d: LaneDebit): TransactItem {
  const sets = ['#credits = #credits + :net', '#lease = :lease', '#spent = #spent + :q'];
  const conditions = ['#owner = :owner', '#scope = :scope', '#credits >= :need'];
  const values: Record<string, unknown> = {
    ':net': d.gain - d.credits,
    ':q': d.credits,
    ':lease': d.leaseUntil,
    ':owner': d.owner,
    ':scope': d.scope,
    ':need': d.credits - d.gain,
  };
  const a = d.allowance;
  if (a) {
    values[':month'] = a.month;
    if (a.resetTo !== undefined) {
      // A new month: last month's allowance is void, this month's is what the refill brought.
      sets.push('#allowance = :aReset', '#month = :month');
      values[':aReset'] = a.resetTo - a.take;
    } else {
      sets.push('#allowance = #allowance + :aNet');
      conditions.push('#month = :month', '#allowance >= :aNeed');
      values[':aNet'] = a.gain - a.take;
      values[':aNeed'] = a.take - a.gain;
    }
  }
  return {
    Update: {
      TableName: table(),
      Key: laneKey(d.head, d.slot),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: conditions.join(' AND '),
      ExpressionAttributeNames: { ...names, ...(a ? { '#allowance': 'allowance', '#month': 'month' } : {}) },
      ExpressionAttributeValues: values,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/** Lane attribute names, aliased (several are DynamoDB reserved words). */
const names = { '#credits': 'credits', '#lease': 'leaseUntil', '#spent': 'spent', '#owner': 'owner', '#scope': 'scope' };

/**
 * A new lane in a free slot, owned by `lane.owner`. Never over a lane still there, even an idle
 * empty one: its `spent` is not yet in the balance's `consumed` and it counts in `lanesOpen`,
 * so only closing it (closeLane with returnLane) may free its slot.
 */
export function claimLane(lane: LaneItem): TransactItem {
  return {
    Put: {
      TableName: table(),
      Item: { ...lane, ...laneKey({ pk: lane.headPk, sk: lane.headSk }, lane.slot) },
      ConditionExpression: 'attribute_not_exists(pk)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * A lane filled ahead, taken by `owner` with its first debit of `credits` (and as much of its
 * allowance): only exactly as it was read, so the taker knows what it holds without reading it
 * again, and only one container can take it.
 */
export function takeLane(seen: LaneItem, owner: string, credits: number, leaseUntil: number): TransactItem {
  const allowance = seen.allowance !== undefined;
  return {
    Update: {
      TableName: table(),
      Key: laneKey({ pk: seen.headPk, sk: seen.headSk }, seen.slot),
      UpdateExpression: `SET #owner = :owner, #lease = :lease, #credits = #credits - :q, #spent = #spent + :q${
        allowance ? ', #allowance = #allowance - :q' : ''
      }`,
      ConditionExpression: `#owner = :ahead AND #credits = :credits AND ${
        allowance ? '#allowance = :allowance' : 'attribute_not_exists(#allowance)'
      }`,
      ExpressionAttributeNames: {
        '#owner': 'owner',
        '#lease': 'leaseUntil',
        '#credits': 'credits',
        '#spent': 'spent',
        '#allowance': 'allowance',
      },
      ExpressionAttributeValues: {
        ':owner': owner,
        ':ahead': AHEAD,
        ':lease': leaseUntil,
        ':q': credits,
        ':credits': seen.credits,
        ...(allowance ? { ':allowance': seen.allowance } : {}),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}

/**
 * Closes a lane exactly as it was read (`seen`), so its credits (and allowance) go back once:
 * a debit that moved it since makes the close fail, and the closer reads it again.
 */
export function closeLane(seen: LaneItem): TransactItem {
  return {
    Delete: {
      TableName: table(),
      Key: laneKey({ pk: seen.headPk, sk: seen.headSk }, seen.slot),
      ConditionExpression: `#credits = :credits AND #owner = :owner AND ${
        seen.allowance === undefined ? 'attribute_not_exists(#allowance)' : '#allowance = :allowance'
      }`,
      ExpressionAttributeNames: { '#credits': 'credits', '#owner': 'owner', '#allowance': 'allowance' },
      ExpressionAttributeValues: {
        ':credits': seen.credits,
        ':owner': seen.owner,
        ...(seen.allowance === undefined ? {} : { ':allowance': seen.allowance }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}
