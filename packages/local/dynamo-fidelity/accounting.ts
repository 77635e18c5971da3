import type { Demand } from './buckets';
import { itemSize, writeUnits } from './item-size';
import type { ItemFacts, itemKnowledge } from './knowledge';
import type { WriteMeter } from './meter';
import { changeOf, scalar, type Target } from './requests';

/**
 * Turns writes into billed units and per-item, per-partition counts. Units follow AWS's rules:
 * a standard write costs 1 unit per started KB of the item (the larger of its size before and
 * after), a transactional one 2 (developerguide/transaction-apis.html, "Capacity management for
 * transactions": one write to prepare, one to commit), and each index entry written or deleted 1
 * per KB (developerguide/GSI.html, "Provisioned throughput considerations for global secondary
 * indexes": an update that moves an item to another index partition is a delete plus a put
 * there). A write whose condition failed is billed all the same, 1 unit when the item did not
 * exist (developerguide/WorkingWithItems.html#WorkingWithItems.ConditionalWrites.ReturnConsumedCapacity);
 * a cancelled transaction is billed here as if each of its writes had been prepared and
 * committed (an upper bound: AWS does not document what a cancelled transaction costs).
 */
export function accounting(meter: WriteMeter, knowledge: ReturnType<typeof itemKnowledge>) {
  const tableKey = (t: Target) => `${t.schema.name} ${t.pk}`;
  const indexKey = (t: Target, index: string, pk: string) => `${t.schema.name}/${index} ${pk}`;
  /** The item's billed size, as well as it can be told before the write. */
  const estimate = (t: Target, before: ItemFacts | undefined) => Math.max(before?.size ?? 0, itemSize(t.item), 1);

  /** The index partitions a write will land in (before the write: from the request and what is known). */
  const indexPartitions = (t: Target, before: ItemFacts | undefined) =>
    t.schema.indexes.flatMap((ix) => {
      const old = before?.index[ix.name] ?? null;
      let next: string | null | undefined = old;
      if (t.action === 'put') next = scalar(t.item?.[ix.hash]) ?? null;
      else if (t.action === 'delete') next = null;
      else if (t.update) {
        const change = changeOf(t.update, ix.hash);
        next = change.kind === 'set' ? change.value : change.kind === 'remove' ? null : old;
      }
      return [...new Set([old, next])].filter((pk): pk is string => pk !== null).map((pk) => ({ index: ix.name, pk }));
    });

  return {
    /** The throughput a write asks of each bucket: its item, its partition key, each index partition it lands in. */
    demands(t: Target, before: ItemFacts | undefined, transactional: boolean): Array<Demand & { index: boolean }> {
      const units = writeUnits(estimate(t, before), transactional);
      return [
        { bucket: `item ${t.id}`, units, index: false },
        { bucket: `table ${tableKey(t)}`, units, index: false },
        ...indexPartitions(t, before).map(({ index, pk }) => ({
          bucket: `index ${indexKey(t, index, pk)}`,
          units: writeUnits(estimate(t, before), false),
          index: true,
        })),
      ];
    },

    /** Writes that reached the table without committing (a failed condition, a cancellation): billed, not written. */
    billFailed(writes: Array<{ t: Target; before: ItemFacts | undefined }>, transactional: boolean) {
      for (const { t, before } of writes) {
        const units = writeUnits(estimate(t, before), transactional);
        meter.write('item', t.id, units, false);
        meter.write('table', tableKey(t), units, false);
      }
    },

    /** Committed writes: the items as they are now are learnt (a read back when the request cannot tell), then counted. */
    async committed(writes: Array<{ t: Target; before: ItemFacts | undefined }>, transactional: boolean) {
      const afters = await Promise.all(writes.map(({ t, before }) => knowledge.after(t, before)));
      writes.forEach(({ t, before }, i) => {
        const after = afters[i];
        const units = writeUnits(Math.max(before?.size ?? 0, after?.size ?? 0, 1), transactional);
        meter.write('item', t.id, units, true);
        meter.write('table', tableKey(t), units, true);
        for (const ix of t.schema.indexes) {
          const old = before?.index[ix.name] ?? null;
          const now = after?.index[ix.name] ?? null;
          if (old !== null && old !== now)
            meter.write('index', indexKey(t, ix.name, old), writeUnits(before?.size ?? 1, false), true);
          if (now !== null) meter.write('index', indexKey(t, ix.name, now), writeUnits(after?.size ?? 1, false), true);
        }
      });
    },
  };
}
