import { setTimeout as sleep } from 'node:timers/promises';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { StreamSource } from '#queues/definitions';
import type { startStreamPoller } from './stream-poller';

type Item = Record<string, unknown>;
type Reader = Pick<ReturnType<typeof startStreamPoller>, 'status' | 'wake'>;

/** Every record of the stream: Lambda's filter syntax, each event name listed. */
const everyRecord = { eventName: ['INSERT', 'MODIFY', 'REMOVE'] };

/** No window and GetRecords' largest read: the mirror is meant to be current, not batched. */
const mirrorSource: StreamSource = {
  batchSize: 1000,
  maxBatchingWindowSeconds: 0,
  retryAttempts: -1,
  bisectBatchOnError: false,
};

/**
 * The streams client reads an empty map (`{"M":{}}` on the wire) back as an attribute value
 * with no member at all (`{}`), which `unmarshall` refuses; a Scan gives `{}` for it. Put the
 * map back, at any depth.
 */
function emptyMapsRestored(image: Record<string, AttributeValue>): Record<string, AttributeValue> {
  const restore = (v: AttributeValue): AttributeValue => {
    if (Object.keys(v).length === 0) return { M: {} };
    if (v.M) return { M: emptyMapsRestored(v.M) };
    if (v.L) return { L: v.L.map(restore) };
    return v;
  };
  return Object.fromEntries(Object.entries(image).map(([k, v]) => [k, restore(v)]));
}

const keyOf = (item: Item) => `${item.pk}\u0000${item.sk}`;

/** The items as JSON sends them: a Set or a binary attribute would not survive it, so none may pass silently. */
function jsonSafe(_key: string, value: unknown) {
  if (value instanceof Set || value instanceof Uint8Array)
    throw new Error('table mirror: a set or binary attribute cannot be served as JSON; serve marshalled items instead');
  return value;
}

/**
 * The test stack's copy of the table, kept from its stream: "which items mention this tenant?"
 * answered from memory. The tests ask it hundreds of times (an item snapshot before and after
 * each fuzzed route, each odd path parameter, each bad input) of a table the whole suite shares.
 * A Scan answers by reading every item of that table in the one DynamoDB Local (60,000 items:
 * 5–9 s a scan here), so those checks cost more the later they run and slowed every other file
 * waiting on the engine; the stream is read once, by one more reader.
 *
 * It is as true as a Scan: every write the table accepts is a record on its stream (DynamoDB
 * Local writes it with the item), and an answer waits until the reader has finished a pass over
 * every shard that began after the question, so it holds every write acknowledged before it.
 * A reader started again (the table re-created in memory, the reader restarted) starts empty
 * and reads the stream from its start.
 */
export function tableMirror() {
  /** Each item, with its JSON text (what "mentions" searches), by key. */
  const items = new Map<string, { item: Item; text: string }>();
  let reader: Reader | undefined;
  /** Why the last batch could not be applied (the reader retries it): said when a question times out. */
  let failure: string | undefined;

  type StreamRecord = { eventName?: string; dynamodb?: { Keys?: unknown; NewImage?: unknown } };
  function apply(record: StreamRecord) {
    const keys = unmarshall(record.dynamodb?.Keys as Record<string, AttributeValue>);
    if (record.eventName === 'REMOVE') {
      items.delete(keyOf(keys));
      return;
    }
    const item = unmarshall(emptyMapsRestored(record.dynamodb?.NewImage as Record<string, AttributeValue>));
    items.set(keyOf(item), { item, text: JSON.stringify(item, jsonSafe) });
  }

  /** Waits for a pass that began after this call to end caught up; wakes the reader from its idle pause. */
  async function caughtUp(timeoutMs = 30_000) {
    const deadline = performance.now() + timeoutMs;
    let current = reader;
    let asked = current?.status().passes ?? 0;
    for (;;) {
      if (reader !== current) [current, asked] = [reader, 0]; // restarted: its passes count from 0 again
      if (current && current.status().caughtUpThrough > asked) return;
      if (performance.now() > deadline)
        throw new Error(`table mirror: the stream reader did not catch up in time${failure ? ` (${failure})` : ''}`);
      current?.wake();
      await sleep(5);
    }
  }

  return {
    /** What the stream poller needs: its handler, its (lack of a) filter and its batching. */
    poller: {
      functionName: 'table-mirror',
      filters: [everyRecord],
      source: mirrorSource,
      onNewStream: () => items.clear(),
      handler: async (event: { Records: StreamRecord[] }) => {
        try {
          for (const record of event.Records) apply(record);
          failure = undefined;
        } catch (err) {
          failure = `the last batch failed: ${(err as Error).message}`;
          throw err;
        }
        return undefined;
      },
    },
    /** A new reader of the stream: it reads from the start, so the copy starts empty. */
    attach(next: Reader) {
      items.clear();
      reader = next;
    },
    /** Every item whose JSON text contains any of `needles`, sorted by key, once the copy holds every earlier write. */
    async mentioning(needles: readonly string[]): Promise<Item[]> {
      await caughtUp();
      const found: Item[] = [];
      for (const { item, text } of items.values()) if (needles.some((n) => text.includes(n))) found.push(item);
      return found.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
    },
  };
}

export type TableMirror = ReturnType<typeof tableMirror>;
