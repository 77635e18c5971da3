import { nowMs } from '#core/clock';
import { AppError } from '#core/errors';
import { addAttempt, deleteThrottle, openWindow, throttleKey } from '#db/items/throttle';

/**
 * Per-subject attempt limits (login and password reset per email, verification resends and
 * webhook test events per agency). A fixed window opens with the first attempt and lasts `windowMs`; it holds `max`
 * attempts, and the next one is refused (429 with Retry-After: until the window closes).
 *
 * The attempt is taken BEFORE the password is checked, by a conditional write: concurrent
 * guesses cannot slip past the limit between a read and a write. A successful login gives
 * its attempt back (`clearAttempts`), so what the window counts is failures. Worst case, at a
 * window's edge: `max` attempts at its end and `max` more right after it, 2×max in a moment,
 * never more than 2×max per window length.
 */
export interface Limit {
  name: string;
  max: number;
  windowMs: number;
}

const MINUTE = 60_000;
export const limits = {
  login: { name: 'login', max: 10, windowMs: 15 * MINUTE },
  passwordReset: { name: 'reset', max: 5, windowMs: 60 * MINUTE },
  verificationResend: { name: 'verify', max: 3, windowMs: 60 * MINUTE },
  // Each test event is a delivery retried for a day in the queue every agency shares (API.md: 10 an hour).
  webhookTest: { name: 'webhook-test', max: 10, windowMs: 60 * MINUTE },
} as const satisfies Record<string, Limit>;

export async function takeAttempt(limit: Limit, subject: string): Promise<void> {
  const key = throttleKey(limit.name, subject);
  // Two rounds suffice: a failed open means another request opened the window just now.
  for (let round = 0; round < 3; round++) {
    const now = nowMs();
    const cutoff = now - limit.windowMs;
    const outcome = await addAttempt(key, limit.max, cutoff);
    if (outcome.taken) return;
    if (outcome.windowStart !== undefined) {
      const retryAfterSeconds = Math.max(1, Math.ceil((outcome.windowStart + limit.windowMs - now) / 1000));
      throw new AppError('too_many_attempts', 'Too many attempts; try again later', undefined, { retryAfterSeconds });
    }
    if (await openWindow(key, now, limit.windowMs, cutoff)) return;
  }
  throw new AppError('try_again', 'Too many simultaneous attempts', undefined, { retryAfterSeconds: 1 });
}

export async function clearAttempts(limit: Limit, subject: string): Promise<void> {
  await deleteThrottle(throttleKey(limit.name, subject));
}
