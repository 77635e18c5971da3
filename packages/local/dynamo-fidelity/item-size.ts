import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * An item's size as DynamoDB bills it, from its wire form (developerguide/CapacityUnitCalculations.html,
 * "Item sizes and formats"): attribute names and strings count their UTF-8 bytes; a number about
 * one byte per two significant digits (leading and trailing zeroes trimmed) plus one; binary its
 * bytes; a boolean or null one byte; a list or map 3 bytes plus 1 per element plus its elements
 * (a map's elements with their names); a set its elements.
 */
export function itemSize(item: Record<string, AttributeValue> | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return numberSize(v.N);
  if (v.B !== undefined) return binarySize(v.B);
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((n, s) => n + Buffer.byteLength(s), 0);
  if (v.NS) return v.NS.reduce((n, s) => n + numberSize(s), 0);
  if (v.BS) return v.BS.reduce((n, b) => n + binarySize(b), 0);
  if (v.L) return 3 + v.L.reduce((n, x) => n + 1 + valueSize(x), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + valueSize(x), 0);
  return 0;
}

const numberSize = (n: string) => {
  const digits = n
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
};

/** On the wire binary is base64 (the SDK's JSON protocol); in memory (marshall) it is bytes. */
const binarySize = (b: unknown) => (typeof b === 'string' ? Buffer.from(b, 'base64').length : (b as Uint8Array).length);

/** Write units of one item write: 1 per started KB (at least 1), twice in a transaction (transaction-apis.html, "Capacity management"). */
export const writeUnits = (bytes: number, transactional: boolean) =>
  Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
