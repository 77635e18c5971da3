import { StripeApiError } from './errors';

/** A parsed Stripe request body: nested objects and arrays of strings. */
export type FormValue = string | FormValue[] | FormObject;
export interface FormObject {
  [key: string]: FormValue;
}

/**
 * Parses Stripe's form encoding (what the SDK sends, `application/x-www-form-urlencoded`):
 * `a[b][0][c]=v` nests objects and arrays, `a[]=v` appends. Every value stays a string;
 * the endpoint's param reader (params.ts) types it, as Stripe's API does. Objects have no
 * prototype, so a key like `__proto__` is just a key.
 */
export function parseStripeForm(body: string): FormObject {
  const root: FormObject = Object.create(null);
  if (!body) return root;
  for (const pair of body.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const rawKey = eq < 0 ? pair : pair.slice(0, eq);
    const rawValue = eq < 0 ? '' : pair.slice(eq + 1);
    const key = decode(rawKey);
    const value = decode(rawValue);
    setPath(root, splitKey(key), value, key);
  }
  return root;
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    throw new StripeApiError(400, { type: 'invalid_request_error', message: `Invalid URL encoding: ${s.slice(0, 40)}` });
  }
}

/** `a[b][0]` → ['a', 'b', '0']; `a[]` → ['a', '']. */
function splitKey(key: string): string[] {
  const open = key.indexOf('[');
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const rest = key.slice(open);
  const re = /\[([^\]]*)\]/g;
  let consumed = 0;
  for (let m = re.exec(rest); m; m = re.exec(rest)) {
    if (m.index !== consumed) break;
    parts.push(m[1] ?? '');
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) invalid(key);
  return parts;
}

const isIndex = (seg: string) => seg === '' || /^\d+$/.test(seg);

function setPath(root: FormObject, path: string[], value: string, key: string): void {
  let node: FormObject | FormValue[] = root;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i] as string;
    const last = i === path.length - 1;
    const nextIsIndex = !last && isIndex(path[i + 1] as string);
    if (Array.isArray(node)) {
      if (!isIndex(seg)) invalid(key);
      const index = seg === '' ? node.length : Number(seg);
      if (index > 10_000) invalid(key);
      node = step(node, index, last, nextIsIndex, value, key);
    } else {
      if (seg === '') invalid(key);
      node = step(node, seg, last, nextIsIndex, value, key);
    }
    if (last) return;
  }
}

function step(
  container: FormObject | FormValue[],
  at: string | number,
  last: boolean,
  nextIsIndex: boolean,
  value: string,
  key: string,
): FormObject | FormValue[] {
  const slot = container as Record<string | number, FormValue | undefined>;
  const existing = slot[at];
  if (last) {
    if (existing !== undefined && typeof existing !== 'string') invalid(key);
    slot[at] = value;
    return container;
  }
  if (existing === undefined) {
    const created: FormObject | FormValue[] = nextIsIndex ? [] : Object.create(null);
    slot[at] = created;
    return created;
  }
  if (typeof existing === 'string' || Array.isArray(existing) !== nextIsIndex) invalid(key);
  return existing as FormObject | FormValue[];
}

function invalid(key: string): never {
  throw new StripeApiError(400, {
    type: 'invalid_request_error',
    message: `Invalid parameter name: ${key}`,
    param: key,
  });
}

/** A canonical string of params (keys sorted), to compare idempotent requests by meaning, not bytes. */
export function canonicalParams(value: FormValue): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalParams).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalParams(value[k] as FormValue)}`).join(',')}}`;
}
