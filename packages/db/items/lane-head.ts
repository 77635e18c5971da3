import { createHash } from 'node:crypto';
import { table } from '../client';
import { itemShape } from '../item-shape';
import { itemKinds, type Key, keyPrefixes, stored } from '../schema';
import type { TransactItem } from '../transact';

/**
 * The sweeper's list of balances with lanes open (packages/domain/ledger/lanes.ts): one small
 * item per such balance, put by every transaction that claims a lane and deleted by the one
 * that closes its last lane, so it is there exactly while the balance item counts lanes open.
 *
 * A list of its own, not an index entry of the balance item: an index copies the item on every
 * write, and a balance with lanes open is written by every refill and claim of every busy
 * agency. Listed on one index partition, those copies would all land on one key platform-wide
 * (DynamoDB gives an index partition, like a table's, about 1,000 write units a second, and a
 * throttled index throttles the table writes behind it). This item is written on claims and
 * closes only, and the list is spread over `LANE_HEAD_SHARDS` partitions by the balance's key.
 * Under the lanes' own prefix, so whatever may claim or close lanes may list them.
 */
export interface LaneHeadItem {
  kind: typeof itemKinds.laneHead;
  headPk: string;
  headSk: string;
  /** When the latest lane was claimed. */
  listedAt: string;
}
export const laneHeadShape = itemShape<LaneHeadItem>(itemKinds.laneHead, { headPk: 'string', headSk: 'string' });

export const LANE_HEAD_SHARDS = 16;

const shardOf = (head: Key) =>
  String(createHash('sha256').update(`${head.pk}|${head.sk}`).digest().readUInt32BE(0) % LANE_HEAD_SHARDS).padStart(2, '0');

/** Where the list holds a balance. */
export const laneHeadKey = (head: Key): Key => ({ pk: `${keyPrefixes.lane}HEADS#${shardOf(head)}`, sk: `${head.pk}|${head.sk}` });

/** Every partition of the list. */
export const laneHeadPartitions = (): string[] =>
  Array.from({ length: LANE_HEAD_SHARDS }, (_, i) => `${keyPrefixes.lane}HEADS#${String(i).padStart(2, '0')}`);

/** The balance on the list, in the transaction that claims one of its lanes (again if it is on it already). */
export function listLaneHead(head: Key, at: string): TransactItem {
  const item: LaneHeadItem = { kind: itemKinds.laneHead, headPk: head.pk, headSk: head.sk, listedAt: at };
  return { Put: { TableName: table(), Item: stored(item, laneHeadKey(head)) } };
}

/** The balance off the list, in the transaction that closes its last lane. */
export function unlistLaneHead(head: Key): TransactItem {
  return { Delete: { TableName: table(), Key: laneHeadKey(head) } };
}
