import { timeLeftMs } from '../../core/deadline';
import { dependencyFailure } from '../../core/dependency-errors';
import { AppError, notFound } from '../../core/errors';
import { isIdOf } from '../../core/ids';
import { mapLimit } from '../../core/map-limit';
import type { LedgerEntryItem } from '../../db/items/ledger-entry';
import type { PrincipalOf } from '../auth/principal';
import type { UsageEvent } from './schemas';
import { recordUsage } from './usage';

/** What one event of a batch got: its entry, or the refusal a single usage call would have got. */
export type EventOutcome = { idempotencyKey: string } & ({ entry: LedgerEntryItem } | { refusal: AppError });

/** Accounts charged at once for one batch (each debit a DynamoDB round trip or two). */
const CONCURRENCY = 16;
/**
 * No event is started this close to the request's deadline: it is answered 503 `try_again`
 * (send it again with its key) rather than the whole batch cut off with its answers lost.
 */
const START_MARGIN_MS = 1_000;

/**
 * A usage batch (`POST /v1/usage/batch`): each event charged exactly as the single usage route
 * charges it, with its own key in its account's scope, so a key first used on either route
 * replays on the other; one event's refusal never stops another. One account's events are
 * charged in the order sent (its monthly limit or wallet takes the earlier ones first);
 * accounts side by side. The body's schema already refused malformed events and a key given
 * twice for one account.
 */
export async function recordUsageBatch(principal: PrincipalOf<'platform'>, events: UsageEvent[]): Promise<EventOutcome[]> {
  const byAccount = new Map<string, number[]>();
  events.forEach((e, i) => {
    const indexes = byAccount.get(e.accountId);
    if (indexes) indexes.push(i);
    else byAccount.set(e.accountId, [i]);
  });
  const outcomes = new Array<EventOutcome>(events.length);
  await mapLimit([...byAccount.values()], CONCURRENCY, async (indexes) => {
    for (const i of indexes) {
      const event = events[i] as UsageEvent;
      outcomes[i] = await outcomeOf(event.idempotencyKey, () => charge(principal, event));
    }
  });
  return outcomes;
}

async function charge(principal: PrincipalOf<'platform'>, event: UsageEvent): Promise<LedgerEntryItem> {
  const { accountId, idempotencyKey, ...body } = event;
  // As on the single route, where an id of any other shape is a 404 before any read.
  if (!isIdOf(accountId, ['agency', 'subAccount'])) throw notFound('Account');
  if (timeLeftMs() < START_MARGIN_MS) throw outOfTime();
  return (await recordUsage(principal, accountId, body, idempotencyKey)).entry;
}

const outOfTime = () =>
  new AppError('try_again', 'The batch ran out of time before this event; send it again with the same key', undefined, {
    retryAfterSeconds: 1,
  });

/** An event's refusal, or a dependency's failure, is that event's answer; anything else is a bug (500). */
async function outcomeOf(idempotencyKey: string, run: () => Promise<LedgerEntryItem>): Promise<EventOutcome> {
  try {
    return { idempotencyKey, entry: await run() };
  } catch (err) {
    const refusal = err instanceof AppError ? err : dependencyFailure(err);
    if (!refusal) throw err;
    return { idempotencyKey, refusal };
  }
}
