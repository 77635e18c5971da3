import { type AttributeValue, type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { itemSize } from './item-size';
import { changeOf, scalar, type Target } from './requests';

/** What the proxy knows of an item as it now is: its size, and the partition it has in each index (null: none). */
export interface ItemFacts {
  size: number;
  index: Record<string, string | null>;
}

const MAX_ITEMS = 200_000;
/** An item updated in place is read again after this many writes, so its size does not drift far. */
const REREAD_EVERY = 32;

/**
 * The items' sizes and index partitions, for counting units and the index partitions writes
 * land in: known exactly after a put (the request carries the item), after an update that
 * sets or removes an index key (`SET gsi1pk = :v`) when the item was known before, and
 * otherwise read back with a GetItem once the write has committed. Measurement only: what
 * the application sees is never changed, and a read back may see a later write.
 */
export function itemKnowledge(client: DynamoDBClient) {
  const facts = new Map<string, ItemFacts & { writes: number }>();

  const remember = (id: string, f: ItemFacts) => {
    if (facts.size >= MAX_ITEMS) facts.delete(facts.keys().next().value as string);
    facts.set(id, { ...f, writes: 0 });
  };

  const read = async (t: Target): Promise<ItemFacts | undefined> => {
    const { Item } = await client.send(new GetItemCommand({ TableName: t.schema.name, Key: t.key, ConsistentRead: true }));
    return Item ? factsOf(t, Item) : undefined;
  };

  return {
    /** The item as last seen; undefined when never seen (or forgotten). */
    before: (t: Target): ItemFacts | undefined => facts.get(t.id),

    /** Reads an item the proxy has not seen (before a delete, whose size and index partition are billed). */
    async learn(t: Target): Promise<ItemFacts | undefined> {
      const known = facts.get(t.id);
      if (known) return known;
      const f = await read(t);
      if (f) remember(t.id, f);
      return f;
    },

    /** The item after a committed write to it, remembered for the next one; undefined after a delete. */
    async after(t: Target, before: ItemFacts | undefined): Promise<ItemFacts | undefined> {
      if (t.action === 'delete') {
        facts.delete(t.id);
        return undefined;
      }
      if (t.action === 'put' && t.item) {
        const f = factsOf(t, t.item);
        remember(t.id, f);
        return f;
      }
      const seen = facts.get(t.id);
      const derived = before && t.update && seen && seen.writes < REREAD_EVERY ? derive(t, before) : undefined;
      if (derived && seen) {
        // A new entry, never an edit: a write still being counted holds the old one as its "before".
        facts.set(t.id, { ...derived, writes: seen.writes + 1 });
        return derived;
      }
      const f = await read(t);
      if (f) remember(t.id, f);
      else facts.delete(t.id);
      return f;
    },

    clear: () => facts.clear(),
  };
}

function factsOf(t: Target, item: Record<string, AttributeValue>): ItemFacts {
  return {
    size: itemSize(item),
    index: Object.fromEntries(t.schema.indexes.map((ix) => [ix.name, scalar(item[ix.hash]) ?? null])),
  };
}

/** An update's effect on the index keys, from the expression alone; undefined when it cannot be told. */
function derive(t: Target, before: ItemFacts): ItemFacts | undefined {
  const index: Record<string, string | null> = {};
  for (const ix of t.schema.indexes) {
    const change = changeOf(t.update as NonNullable<Target['update']>, ix.hash);
    if (change.kind === 'unknown') return undefined;
    index[ix.name] = change.kind === 'set' ? change.value : change.kind === 'remove' ? null : (before.index[ix.name] ?? null);
  }
  return { size: before.size, index };
}
