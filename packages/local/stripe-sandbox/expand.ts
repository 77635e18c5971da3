import { invalidRequest } from './errors';
import type { Scope, Store } from './store';

/**
 * Stripe's `expand[]`: each dotted path names an id field to replace by the object it
 * names (`payment_intent`, `payment_intent.latest_charge`, `charge`…), looked up in the
 * same account only. A path that names no expandable id is refused, as Stripe does.
 */
export function expand<T extends object>(store: Store, scope: Scope, object: T, paths: string[]): T {
  if (!paths.length) return object;
  const out = structuredClone(object) as Record<string, unknown>;
  for (const path of paths) expandPath(store, scope, out, path.split('.'), path);
  return out as T;
}

function expandPath(store: Store, scope: Scope, node: Record<string, unknown>, segs: string[], full: string): void {
  const [head, ...rest] = segs;
  if (!head || head === 'id' || !Object.hasOwn(node, head)) throw cannotExpand(full);
  let value = node[head];
  if (value === null) return;
  if (typeof value === 'string') {
    const found = store.byId(value, scope);
    if (!found) throw cannotExpand(full);
    value = structuredClone(found);
    node[head] = value;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw cannotExpand(full);
  if (rest.length) expandPath(store, scope, value as Record<string, unknown>, rest, full);
}

const cannotExpand = (path: string) => invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
