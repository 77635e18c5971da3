import { AppError } from '#core/errors';

/**
 * Opaque pagination cursors: the DynamoDB LastEvaluatedKey as base64url JSON. Only string
 * key attributes are accepted back, so a forged cursor cannot smuggle anything else in;
 * queries always pin the partition, so a cursor cannot cross tenants either.
 */
export function encodeCursor(lastKey: Record<string, unknown> | undefined): string | null {
  return lastKey ? Buffer.from(JSON.stringify(lastKey)).toString('base64url') : null;
}

export function decodeCursor(cursor: string | undefined): Record<string, string> | undefined {
  if (!cursor) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      const entries = Object.entries(value);
      if (entries.length > 0 && entries.length <= 6 && entries.every(([, v]) => typeof v === 'string' && v.length < 512)) {
        return Object.fromEntries(entries) as Record<string, string>;
      }
    }
  } catch {
    // fall through to the 400 below
  }
  throw new AppError('invalid_request', 'cursor: not a cursor this API returned', [
    { field: 'cursor', message: 'invalid cursor' },
  ]);
}

export const foreignCursor = () =>
  new AppError('invalid_request', 'cursor: not a cursor for this list', [{ field: 'cursor', message: 'invalid cursor' }]);
