import { AppError, type FieldIssue } from '#core/errors';
import * as z from '#core/zod';

/** Turns zod issues into field-named problems: `faqs.2.answer`, or each unknown key by name. */
export function issuesOf(error: z.core.$ZodError, root: string): FieldIssue[] {
  const out: FieldIssue[] = [];
  for (const issue of error.issues) {
    const base = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ field: base ? `${base}.${key}` : key, message: 'unknown field' });
      }
      continue;
    }
    out.push({ field: base || root, message: issue.message });
  }
  return out;
}

export function parseWith<S extends z.core.$ZodType>(schema: S, input: unknown, root: string): z.infer<S> {
  const result = z.safeParse(schema, input);
  if (result.success) return result.data;
  const errors = issuesOf(result.error, root);
  const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  throw new AppError('invalid_request', detail, errors);
}

/** Strict JSON body parsing: anything but a JSON object is a 400 naming `body`. */
export function parseJsonBody(raw: string | undefined, isBase64: boolean | undefined): unknown {
  if (raw === undefined || raw === '') {
    throw new AppError('invalid_request', 'body: a JSON object is required', [{ field: 'body', message: 'required' }]);
  }
  const text = isBase64 ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AppError('invalid_request', 'body: not valid JSON', [{ field: 'body', message: 'not valid JSON' }]);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('invalid_request', 'body: must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }]);
  }
  return value;
}
