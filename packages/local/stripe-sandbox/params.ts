import { invalidRequest, missingParam } from './errors';
import type { FormObject, FormValue } from './form';

/**
 * Reads one endpoint's params the way Stripe validates them: typed (integers, booleans,
 * enums, URLs, metadata limits), with Stripe's error codes and the param named in
 * bracket notation (`line_items[0][quantity]`). `done()` rejects any param the endpoint
 * did not read, as Stripe rejects unknown params: a call the sandbox does not model fails
 * loudly instead of being silently ignored.
 */
export class Params {
  private readonly read = new Set<string>();

  constructor(
    private readonly node: FormObject,
    /** This object's own param name, in bracket notation ('' at the top). */
    readonly path = '',
  ) {}

  private name(key: string): string {
    return this.path ? `${this.path}[${key}]` : key;
  }

  private raw(key: string): FormValue | undefined {
    this.read.add(key);
    return Object.hasOwn(this.node, key) ? this.node[key] : undefined;
  }

  has(key: string): boolean {
    return Object.hasOwn(this.node, key);
  }

  str(key: string, opts: { required: true; max?: number }): string;
  str(key: string, opts?: { required?: boolean; max?: number }): string | undefined;
  str(key: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
    const value = this.raw(key);
    if (value === undefined || value === '') {
      if (opts.required) throw missingParam(this.name(key));
      return undefined;
    }
    if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${this.name(key)} must be a string`, this.name(key));
    if (opts.max !== undefined && value.length > opts.max)
      throw invalidRequest(
        `Invalid string: ${value.slice(0, 20)}...; must be at most ${opts.max} characters`,
        this.name(key),
        'parameter_invalid_string_too_long',
      );
    return value;
  }

  int(key: string, opts: { required: true; min?: number; max?: number }): number;
  int(key: string, opts?: { required?: boolean; min?: number; max?: number }): number | undefined;
  int(key: string, opts: { required?: boolean; min?: number; max?: number } = {}): number | undefined {
    const value = this.str(key, { required: opts.required });
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value)))
      throw invalidRequest(`Invalid integer: ${value}`, this.name(key), 'parameter_invalid_integer');
    const n = Number(value);
    if (opts.min !== undefined && n < opts.min)
      throw invalidRequest(`This value must be greater than or equal to ${opts.min}.`, this.name(key));
    if (opts.max !== undefined && n > opts.max)
      throw invalidRequest(`This value must be less than or equal to ${opts.max}.`, this.name(key));
    return n;
  }

  bool(key: string): boolean | undefined {
    const value = this.str(key);
    if (value === undefined) return undefined;
    if (value !== 'true' && value !== 'false') throw invalidRequest(`Invalid boolean: ${value}`, this.name(key));
    return value === 'true';
  }

  oneOf<T extends string>(key: string, values: readonly T[], opts: { required: true }): T;
  oneOf<T extends string>(key: string, values: readonly T[], opts?: { required?: boolean }): T | undefined;
  oneOf<T extends string>(key: string, values: readonly T[], opts: { required?: boolean } = {}): T | undefined {
    const value = this.str(key, opts);
    if (value === undefined) return undefined;
    if (!values.includes(value as T)) throw invalidRequest(`Invalid ${key}: must be one of ${listWords(values)}`, this.name(key));
    return value as T;
  }

  url(key: string, opts: { required?: boolean } = {}): string | undefined {
    const value = this.str(key, { ...opts, max: 5000 });
    if (value === undefined) return undefined;
    if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))
      throw invalidRequest('Not a valid URL', this.name(key), 'url_invalid');
    return value;
  }

  /** Stripe's metadata rules: up to 50 keys, keys ≤ 40 characters, values ≤ 500. */
  metadata(key: string): Record<string, string> {
    const node = this.obj(key);
    if (!node) return {};
    const out: Record<string, string> = {};
    for (const k of node.keys()) {
      if (k.length > 40) throw invalidRequest('Metadata keys can have up to 40 characters', `${node.path}[${k}]`);
      const v = node.str(k, { max: 500 });
      if (v !== undefined) out[k] = v;
    }
    if (Object.keys(out).length > 50) throw invalidRequest('Metadata can have up to 50 keys', this.name(key));
    return out;
  }

  obj(key: string): Params | undefined {
    const value = this.raw(key);
    if (value === undefined || value === '') return undefined;
    if (typeof value === 'string' || Array.isArray(value))
      throw invalidRequest(`Invalid object: ${this.name(key)} must be a hash`, this.name(key));
    return this.child(this.name(key), value);
  }

  list(key: string): Params[] {
    const value = this.raw(key);
    if (value === undefined || value === '') return [];
    if (!Array.isArray(value)) throw invalidRequest(`Invalid array: ${this.name(key)} must be an array`, this.name(key));
    return value.flatMap((item, i) => {
      if (item === undefined) return [];
      if (typeof item === 'string' || Array.isArray(item))
        throw invalidRequest(`Invalid object: ${this.name(key)}[${i}] must be a hash`, `${this.name(key)}[${i}]`);
      return [this.child(`${this.name(key)}[${i}]`, item)];
    });
  }

  /** `expand[]=a&expand[]=b`: the dotted paths to expand in the answer. */
  expand(): string[] {
    const value = this.raw('expand');
    if (value === undefined || value === '') return [];
    const items = Array.isArray(value) ? value : [value];
    if (items.some((v) => typeof v !== 'string')) throw invalidRequest('Invalid array', 'expand');
    return items as string[];
  }

  keys(): string[] {
    return Object.keys(this.node);
  }

  private children: Params[] = [];
  private child(path: string, node: FormObject): Params {
    const child = new Params(node, path);
    this.children.push(child);
    return child;
  }

  /** Rejects params nobody read; call once the endpoint has read all it supports. */
  done(): void {
    for (const key of Object.keys(this.node)) if (!this.read.has(key)) this.unknown(key);
    for (const c of this.children) c.done();
  }

  unknown(key: string): never {
    throw invalidRequest(
      `Received unknown parameter: ${this.name(key)} (the local Stripe sandbox does not model it; see packages/local/stripe-sandbox)`,
      this.name(key),
      'parameter_unknown',
    );
  }
}

function listWords(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  return `${values.slice(0, -1).join(', ')}, or ${values[values.length - 1]}`;
}
