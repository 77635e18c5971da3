import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { dynamo } from '#db/client';

/**
 * Every write that DynamoDB accepted from THIS process's handler modules (the application's
 * one client, `packages/db/client.ts`): an observer, not a fake — the writes happen, the log
 * only says which. Refused writes (a failed condition, a cancelled transaction) throw and are
 * not logged: they wrote nothing.
 */
export interface LoggedWrite {
  command: string;
  pk: string;
  sk: string;
  /** The item's `kind` when the write carries it (puts). */
  kind?: string;
}

const writeCommands = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

/** Items as the document client passes them (plain values) or marshalled (`{S: …}`). */
type Av = Record<string, AttributeValue | string | unknown>;
const str = (v: unknown): string =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'S' in v ? String((v as { S: unknown }).S) : '';

function writesOf(command: string, input: any): LoggedWrite[] {
  const one = (name: string, key: Av | undefined, item?: Av): LoggedWrite => ({
    command: name,
    pk: str((key ?? item)?.pk),
    sk: str((key ?? item)?.sk),
    kind: item ? str(item.kind) || undefined : undefined,
  });
  switch (command) {
    case 'PutItemCommand':
      return [one('Put', undefined, input.Item)];
    case 'UpdateItemCommand':
      return [one('Update', input.Key)];
    case 'DeleteItemCommand':
      return [one('Delete', input.Key)];
    case 'TransactWriteItemsCommand':
      return (input.TransactItems ?? []).flatMap((t: any) =>
        t.Put
          ? [one('Put', undefined, t.Put.Item)]
          : t.Update
            ? [one('Update', t.Update.Key)]
            : t.Delete
              ? [one('Delete', t.Delete.Key)]
              : [],
      );
    case 'BatchWriteItemCommand':
      return Object.values(input.RequestItems ?? {}).flatMap((requests: any) =>
        requests.map((r: any) => (r.PutRequest ? one('Put', undefined, r.PutRequest.Item) : one('Delete', r.DeleteRequest.Key))),
      );
    default:
      return [];
  }
}

/** Starts logging; `take()` returns (and clears) what was written since the last take. */
export function startWriteLog(name = 'test-write-log') {
  let log: LoggedWrite[] = [];
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const command = context.commandName ?? '';
      if (writeCommands.has(command)) log.push(...writesOf(command, args.input));
      return out;
    },
    { step: 'initialize', name },
  );
  return {
    take(): LoggedWrite[] {
      const taken = log;
      log = [];
      return taken;
    },
    stop: () => dynamo.middlewareStack.remove(name),
  };
}
