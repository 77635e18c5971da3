import type { FaultPoint } from './commands';

/**
 * What one DynamoDB call of a container writes, told from its input alone (the low-level
 * client's command, keys plain or marshalled): the fault points it stands for, and a short
 * name for the scheduler's trace.
 */
export interface CallKind {
  name: string;
  points: FaultPoint[];
}

type Key = Record<string, unknown> | undefined;
interface Input {
  Key?: Key;
  Item?: Key;
  TransactItems?: Array<Record<string, { Key?: Key; Item?: Key; UpdateExpression?: string } | undefined>>;
}

const text = (v: unknown): string =>
  typeof v === 'string' ? v : v && typeof v === 'object' && 'S' in v ? String((v as { S: unknown }).S) : String(v);

const isLane = (key: Key) => text(key?.pk).startsWith('LANE#');
const isBalance = (key: Key) => ['POOL', 'WALLET'].includes(text(key?.sk));
const isEntry = (key: Key) => text(key?.pk).startsWith('LEDGER#');
const isAccount = (key: Key) => text(key?.sk) === 'ACCOUNT';

export function classify(command: string, input: unknown): CallKind {
  const i = input as Input;
  switch (command) {
    case 'GetItemCommand':
    case 'BatchGetItemCommand':
    case 'QueryCommand':
    case 'TransactGetItemsCommand':
      return { name: command.replace(/Command$/, ''), points: ['read'] };
    case 'PutItemCommand':
      return isEntry(i.Item) ? { name: 'Put refusal', points: ['refusal'] } : { name: 'Put', points: [] };
    case 'UpdateItemCommand':
      if (isAccount(i.Key)) return { name: 'Update account', points: ['account'] };
      // A lane frozen before it is closed with others (lane-close.ts).
      return isLane(i.Key) ? { name: 'Update lane (freeze)', points: ['freezeLane'] } : { name: 'Update', points: [] };
    case 'TransactWriteItemsCommand':
      return transaction(i);
    default:
      return { name: command.replace(/Command$/, ''), points: [] };
  }
}

function transaction(i: Input): CallKind {
  const ops = (i.TransactItems ?? []).flatMap((t) =>
    Object.entries(t).map(([op, body]) => ({ op, key: body?.Key ?? body?.Item, update: body?.UpdateExpression ?? '' })),
  );
  const lane = ops.filter((o) => isLane(o.key));
  const balance = ops.filter((o) => isBalance(o.key));
  const points: FaultPoint[] = [];
  if (lane.some((o) => o.op === 'Put')) points.push('claim');
  else if (lane.some((o) => o.op === 'Delete')) points.push('closeLane');
  else if (lane.some((o) => o.op === 'Update')) points.push(balance.length ? 'refill' : 'laneDebit');
  else if (balance.length && ops.some((o) => isEntry(o.key))) points.push('balance');
  else if (balance.length === 1 && ops.length === 1 && /#fence :one/.test(balance[0]!.update)) points.push('fence');
  return { name: `TransactWrite[${points.join(',') || ops.map((o) => o.op).join('+')}]`, points };
}

/** What the SDK throws when the connection drops mid-call: the handler answers 503, the client retries. */
export function networkError(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET', $metadata: {} });
}
