/**
 * What an item read from the table must look like before the code treats it as its type: its
 * kind and the fields the code relies on, checked as it is read (a few `typeof` tests: cheap
 * enough for the debit path). An item that fails is a bug (a write that broke the shape, a key
 * that names another kind's item), never the caller's mistake: `MalformedItem` is a 500, and
 * names the kind, the key and the field.
 */
export class MalformedItem extends Error {
  constructor(kind: string, key: string, problem: string) {
    super(`Malformed ${kind} item at ${key}: ${problem}`);
    this.name = 'MalformedItem';
  }
}

/** A field's check: its `typeof`, an array, a map, or one of a few strings. */
export type FieldCheck = 'string' | 'number' | 'boolean' | 'array' | 'object' | readonly string[];

/** Every key of every member of a union (`keyof` of a union keeps only the shared ones). */
type AnyKey<T> = T extends unknown ? keyof T : never;
type Checks<T> = Partial<Record<AnyKey<T>, FieldCheck>>;

export interface ItemShape<T> {
  readonly kind: string;
  /** The item as its type, or a `MalformedItem` naming what is wrong. */
  parse(item: Record<string, unknown>): T;
  /** The same test, as a type guard. */
  is(item: unknown): item is T;
}

function problemOf(value: unknown, check: FieldCheck): string | undefined {
  const ok =
    check === 'array'
      ? Array.isArray(value)
      : check === 'object'
        ? typeof value === 'object' && value !== null && !Array.isArray(value)
        : typeof check === 'string'
          ? typeof value === check
          : check.includes(value as string);
  if (ok) return undefined;
  const wanted = typeof check === 'string' ? `${/^[aeiou]/.test(check) ? 'an' : 'a'} ${check}` : `one of ${check.join(', ')}`;
  return `expected ${wanted}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`;
}

/**
 * The shape of the items of one kind: `required` fields must be there and pass, `optional` ones
 * must pass when there (absent or null: not there). Unlisted fields are not looked at. `kindless`: an item some write
 * creates with none of its kind's attributes yet (no `kind` either) is one of them too.
 */
export function itemShape<T extends object>(
  kind: string,
  required: Checks<T>,
  optional: Checks<T> = {},
  { kindless = false } = {},
): ItemShape<T> {
  const must = Object.entries(required) as Array<[string, FieldCheck]>;
  const may = Object.entries(optional) as Array<[string, FieldCheck]>;
  const problem = (item: Record<string, unknown>): string | undefined => {
    if (item.kind !== kind && !(kindless && item.kind === undefined))
      return `kind: expected ${kind}, got ${JSON.stringify(item.kind)}`;
    for (const [field, check] of must) {
      const wrong = problemOf(item[field], check);
      if (wrong) return `${field}: ${wrong}`;
    }
    for (const [field, check] of may) {
      const wrong = item[field] === undefined || item[field] === null ? undefined : problemOf(item[field], check);
      if (wrong) return `${field}: ${wrong}`;
    }
    return undefined;
  };
  return {
    kind,
    parse(item) {
      const wrong = problem(item);
      if (wrong) throw new MalformedItem(kind, `${String(item.pk)}|${String(item.sk)}`, wrong);
      return item as T;
    },
    is: (item): item is T => typeof item === 'object' && item !== null && !problem(item as Record<string, unknown>),
  };
}

/** An item that may be absent, parsed when present. */
export const parseFound = <T>(shape: ItemShape<T>, item: Record<string, unknown> | undefined): T | undefined =>
  item === undefined ? undefined : shape.parse(item);

/** Items of any of several kinds (one partition or record holding more than one), each parsed by its own kind's shape. */
export function anyOf<S extends ItemShape<unknown>[]>(...shapes: S): ItemShape<S[number] extends ItemShape<infer T> ? T : never> {
  const byKind = new Map(shapes.map((s) => [s.kind, s]));
  const kind = shapes.map((s) => s.kind).join('|');
  return {
    kind,
    parse(item) {
      const shape = byKind.get(String(item.kind));
      if (!shape)
        throw new MalformedItem(kind, `${String(item.pk)}|${String(item.sk)}`, `kind: got ${JSON.stringify(item.kind)}`);
      return shape.parse(item) as never;
    },
    is: (item): item is never =>
      typeof item === 'object' && item !== null && !!byKind.get(String((item as { kind?: unknown }).kind))?.is(item),
  };
}
