import { dynamo } from '#db/client';

/**
 * Counts what this process reads from DynamoDB: calls, items read (a query's items as
 * DynamoDB evaluated them, matching a filter or not) and read units as DynamoDB reports them
 * (`ReturnConsumedCapacity: TOTAL`, added to every read). The scale bench serves its requests
 * in this process (the local gateway runs the handlers in it), so the counts are what the
 * console's reads cost, as long as nothing else reads meanwhile (it waits for the pollers).
 */
export interface ReadCounts {
  calls: number;
  items: number;
  units: number;
}

const reads = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
const counts: ReadCounts = { calls: 0, items: 0, units: 0 };
let installed = false;

type Capacity = { CapacityUnits?: number } | Array<{ CapacityUnits?: number }> | undefined;
const unitsOf = (c: Capacity) => (Array.isArray(c) ? c : c ? [c] : []).reduce((n, x) => n + (x.CapacityUnits ?? 0), 0);

export function installReadMeter(): void {
  if (installed) return;
  installed = true;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const name = (context as { commandName?: string }).commandName ?? '';
      if (!reads.has(name)) return next(args);
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const o = out.output as unknown as Record<string, unknown>;
      counts.calls++;
      counts.units += unitsOf(o.ConsumedCapacity as Capacity);
      if (name === 'QueryCommand' || name === 'ScanCommand') counts.items += Number(o.ScannedCount ?? 0);
      else if (name === 'GetItemCommand') counts.items += o.Item ? 1 : 0;
      else if (name === 'BatchGetItemCommand')
        counts.items += Object.values((o.Responses ?? {}) as Record<string, unknown[]>).reduce((n, l) => n + l.length, 0);
      else counts.items += ((o.Responses ?? []) as unknown[]).length;
      return out;
    },
    { step: 'initialize', name: 'benchReadMeter' },
  );
}

/** The counts since the last call (and starts counting anew). */
export function takeReadCounts(): ReadCounts {
  const out = { ...counts };
  counts.calls = 0;
  counts.items = 0;
  counts.units = 0;
  return out;
}
