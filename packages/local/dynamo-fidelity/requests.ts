import { type AttributeValue, DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What the proxy needs of a table: its key attributes, its indexes' partition keys, its ARNs and billing mode. */
export interface TableSchema {
  name: string;
  arn: string;
  hash: string;
  range?: string;
  onDemand: boolean;
  indexes: Array<{ name: string; hash: string; arn: string }>;
}

/** Table schemas, read once per table with DescribeTable against the engine behind the proxy. */
export function tableSchemas(client: DynamoDBClient) {
  const known = new Map<string, Promise<TableSchema>>();
  return (name: string): Promise<TableSchema> => {
    let schema = known.get(name);
    if (!schema) {
      schema = client.send(new DescribeTableCommand({ TableName: name })).then(({ Table: t }) => {
        const keyOf = (keys: Array<{ AttributeName?: string; KeyType?: string }> | undefined, type: string) =>
          keys?.find((k) => k.KeyType === type)?.AttributeName;
        return {
          name,
          arn: t?.TableArn ?? name,
          hash: keyOf(t?.KeySchema, 'HASH') ?? '',
          range: keyOf(t?.KeySchema, 'RANGE'),
          onDemand: t?.BillingModeSummary?.BillingMode === 'PAY_PER_REQUEST',
          indexes: (t?.GlobalSecondaryIndexes ?? []).map((ix) => ({
            name: ix.IndexName ?? '',
            hash: keyOf(ix.KeySchema, 'HASH') ?? '',
            arn: ix.IndexArn ?? '',
          })),
        };
      });
      schema.catch(() => known.delete(name)); // a table created later is described again
      known.set(name, schema);
    }
    return schema;
  };
}

type Item = Record<string, AttributeValue>;
export type Action = 'put' | 'update' | 'delete' | 'check' | 'get';

/** One item a request touches, and how. */
export interface Target {
  schema: TableSchema;
  /** Names the item: table, partition key and sort key. */
  id: string;
  /** The item's partition key value. */
  pk: string;
  key: Item;
  action: Action;
  /** A put's whole new item. */
  item?: Item;
  /** An update's expression, to tell what it does to the index keys. */
  update?: { expression: string; names: Record<string, string>; values: Item };
}

/** The parts of a request's input that name items. */
interface TransactInput {
  TransactItems?: Array<Record<string, Operation | undefined>>;
  RequestItems?: Record<string, Array<Record<string, Operation | undefined>>>;
}

interface Operation {
  TableName?: string;
  Key?: Item;
  Item?: Item;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Item;
}

/** The value of a key attribute, as text (keys are strings, numbers or binary). */
export const scalar = (v: AttributeValue | undefined): string | undefined => v?.S ?? v?.N ?? (v?.B as string | undefined);

async function targetOf(schemaOf: (t: string) => Promise<TableSchema>, op: Operation, action: Action): Promise<Target> {
  const schema = await schemaOf(op.TableName ?? '');
  const source = op.Key ?? op.Item ?? {};
  const key: Item = {};
  for (const name of [schema.hash, schema.range]) {
    const value = name ? source[name] : undefined;
    if (name && value) key[name] = value;
  }
  const pk = scalar(key[schema.hash]) ?? '';
  const sk = schema.range ? (scalar(key[schema.range]) ?? '') : '';
  return {
    schema,
    id: `${schema.name} ${pk} ${sk}`,
    pk,
    key,
    action,
    item: action === 'put' ? op.Item : undefined,
    update:
      action === 'update'
        ? {
            expression: op.UpdateExpression ?? '',
            names: op.ExpressionAttributeNames ?? {},
            values: op.ExpressionAttributeValues ?? {},
          }
        : undefined,
  };
}

/** The items a call touches, in request order (a transaction's order is its cancellation reasons' order). */
export async function targetsOf(
  schemaOf: (t: string) => Promise<TableSchema>,
  operation: string,
  input: TransactInput & Operation,
): Promise<Target[]> {
  switch (operation) {
    case 'PutItem':
      return [await targetOf(schemaOf, input, 'put')];
    case 'UpdateItem':
      return [await targetOf(schemaOf, input, 'update')];
    case 'DeleteItem':
      return [await targetOf(schemaOf, input, 'delete')];
    case 'TransactWriteItems':
      return Promise.all(
        (input.TransactItems ?? []).map((t) =>
          t.Put
            ? targetOf(schemaOf, t.Put, 'put')
            : t.Update
              ? targetOf(schemaOf, t.Update, 'update')
              : t.Delete
                ? targetOf(schemaOf, t.Delete, 'delete')
                : targetOf(schemaOf, t.ConditionCheck ?? {}, 'check'),
        ),
      );
    case 'TransactGetItems':
      return Promise.all((input.TransactItems ?? []).map((t) => targetOf(schemaOf, t.Get ?? {}, 'get')));
    case 'BatchWriteItem':
      return Promise.all(
        Object.entries(input.RequestItems ?? {}).flatMap(([table, writes]) =>
          writes.map((w) =>
            w.PutRequest
              ? targetOf(schemaOf, { ...w.PutRequest, TableName: table }, 'put')
              : targetOf(schemaOf, { ...w.DeleteRequest, TableName: table }, 'delete'),
          ),
        ),
      );
    default:
      return [];
  }
}

/** What an update does to one attribute: leaves it, sets it to a known value, removes it, or something this cannot tell. */
export type Change = { kind: 'keep' } | { kind: 'set'; value: string } | { kind: 'remove' } | { kind: 'unknown' };

/**
 * Reads an UpdateExpression for what it does to `attribute` (an index's partition key):
 * `SET gsi1pk = :v` with a literal value, `REMOVE gsi1pk`, or nothing. Anything else that
 * names it (a function, ADD) is 'unknown' and the proxy reads the item after the write.
 */
export function changeOf(update: NonNullable<Target['update']>, attribute: string): Change {
  const resolve = (path: string) => {
    const trimmed = path.trim();
    return trimmed.startsWith('#') ? update.names[trimmed] : trimmed;
  };
  let change: Change = { kind: 'keep' };
  for (const [, keyword, body] of update.expression.matchAll(
    /\b(SET|REMOVE|ADD|DELETE)\b([\s\S]*?)(?=\b(?:SET|REMOVE|ADD|DELETE)\b|$)/gi,
  )) {
    for (const action of splitTopLevel(body ?? '')) {
      const verb = (keyword ?? '').toUpperCase();
      if (verb === 'SET') {
        const at = action.indexOf('=');
        if (resolve(action.slice(0, at)) !== attribute) continue;
        const operand = action.slice(at + 1).trim();
        const value = /^:\w+$/.test(operand) ? scalar(update.values[operand]) : undefined;
        change = value === undefined ? { kind: 'unknown' } : { kind: 'set', value };
      } else if (verb === 'REMOVE') {
        if (resolve(action) === attribute) change = { kind: 'remove' };
      } else if (resolve(action.trim().split(/\s+/)[0] ?? '') === attribute) {
        change = { kind: 'unknown' };
      }
    }
  }
  return change;
}

/** Splits `a = :x, b = if_not_exists(b, :y)` at the commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}
