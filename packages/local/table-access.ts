import { AsyncLocalStorage } from 'node:async_hooks';
import { dynamo } from '#db/client';
import { type TableUser, tableKeyPrefixes } from '#http/functions';

/**
 * The deployed IAM policies' key conditions, enforced locally: every DynamoDB call a handler
 * makes while `asFunction(name, …)` runs must name only partitions whose prefix its function
 * was given (packages/db/access.ts), or it fails as IAM would fail it, with AccessDenied. The
 * local gateway and pollers run each handler this way.
 */
const current = new AsyncLocalStorage<TableUser>();

export const asFunction = <T>(name: TableUser, fn: () => T): T => current.run(name, fn);

let installed = false;
/** Installs the check on the application's DynamoDB client (once per process). */
export function enforceTableAccess(): void {
  if (installed) return;
  installed = true;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      const fn = current.getStore();
      if (fn) {
        const allowed = tableKeyPrefixes[fn];
        const denied = partitionsOf(context.commandName ?? '', args.input as CallInput).find(
          (pk) => !allowed.some((p) => pk.startsWith(p)),
        );
        if (denied !== undefined || (allowed.length === 0 && touchesTable(context.commandName ?? '')))
          throw Object.assign(
            new Error(
              `${fn} is not authorized to perform: dynamodb:${(context.commandName ?? '').replace(/Command$/, '')} on a key ${JSON.stringify(denied ?? '')} (its prefixes: ${allowed.join(', ') || 'none'})`,
            ),
            { name: 'AccessDeniedException', $fault: 'client' },
          );
      }
      return next(args);
    },
    { step: 'initialize', name: 'local-table-access' },
  );
}

const touchesTable = (command: string) => command !== '' && !/^(Describe|List)/.test(command);

/** A key attribute as the document client passes it (plain) or marshalled (`{S: …}`). */
const text = (v: unknown): string =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'S' in v ? String((v as { S: unknown }).S) : String(v);

type Key = Record<string, unknown> | undefined;
interface CallInput {
  Key?: Key;
  Item?: Key;
  RequestItems?: Record<string, unknown>;
  TransactItems?: Array<Record<string, { Item?: Key; Key?: Key } | undefined>>;
  IndexName?: string;
  KeyConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}
type BatchGet = Record<string, { Keys: Key[] }>;
type BatchWrite = Record<string, Array<{ PutRequest?: { Item: Key }; DeleteRequest?: { Key: Key } }>>;

/** The table partition keys a call names (index queries name none: they are not narrowed). */
function partitionsOf(command: string, input: CallInput): string[] {
  const pk = (key: Key) => text(key?.pk);
  const itemsOf = (t: Record<string, { Item?: Key; Key?: Key } | undefined>) => Object.values(t).map((op) => op?.Item ?? op?.Key);
  switch (command) {
    case 'GetItemCommand':
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
      return [pk(input.Key)];
    case 'PutItemCommand':
      return [pk(input.Item)];
    case 'BatchGetItemCommand':
      return Object.values((input.RequestItems ?? {}) as BatchGet).flatMap((r) => r.Keys.map(pk));
    case 'BatchWriteItemCommand':
      return Object.values((input.RequestItems ?? {}) as BatchWrite).flatMap((rs) =>
        rs.map((r) => pk(r.PutRequest?.Item ?? r.DeleteRequest?.Key)),
      );
    case 'TransactWriteItemsCommand':
    case 'TransactGetItemsCommand':
      return (input.TransactItems ?? []).flatMap((t) => itemsOf(t).map(pk));
    case 'QueryCommand':
      return input.IndexName ? [] : [queryPartition(input)];
    case 'ScanCommand':
      // A key condition cannot narrow a scan: IAM's LeadingKeys would not stop it, so refuse it outright.
      return [''];
    default:
      return [];
  }
}

/** The partition a query's key condition names (`<pk> = :value`). */
function queryPartition(input: CallInput): string {
  for (const [, name, placeholder] of String(input.KeyConditionExpression).matchAll(/([#\w]+)\s*=\s*(:\w+)/g)) {
    const attribute = name?.startsWith('#') ? input.ExpressionAttributeNames?.[name] : name;
    if (attribute === 'pk') return text(input.ExpressionAttributeValues?.[placeholder as string]);
  }
  return '';
}
