import { timeLeftMs } from '#core/deadline';
import { dependencyFailure } from '#core/dependency-errors';
import { AppError, notFound } from '#core/errors';
import { isIdOf } from '#core/ids';
import { mapLimit } from '#core/map-limit';
import type { LedgerEntryItem } from '#db/items/ledger-entry';
import type { PrincipalOf } from '../auth/principal';
import { type DebitRequest, debit } from './debit';
import { debitTogether, type Settled } from './debit-group';
import type { UsageEvent } from './schemas';
import { usageDebit } from './usage';

/** What one event of a batch got: its entry, or the refusal a single usage call would have got. */
export type EventOutcome = { idempotencyKey: string } & ({ entry: LedgerEntryItem } | { refusal: AppError });

/** Refusals of inactive accounts' events worked out at once. */
const CONCURRENCY = 16;
/**
 * No event is started this close to the request's deadline: it is answered 503 `try_again`
 * (send it again with its key) rather than the whole batch cut off with its answers lost.
 */
const START_MARGIN_MS = 1_000;

/**
 * A usage batch (`POST /v1/usage/batch`): each event is the debit the single usage route
 * makes for it, its key in the same per-account scope, so a key first used on either route
 * replays on the other; one event's refusal never stops another. Events of one balance are
 * debited many to a transaction where that surely passes, the others one by one exactly as
 * the single route debits them (debit-group.ts); one account's events commit in the order
 * sent (its limit or wallet takes the earlier ones first). The body's schema already refused
 * malformed events and a key given twice for one account.
 */
export async function recordUsageBatch(principal: PrincipalOf<'platform'>, events: UsageEvent[]): Promise<EventOutcome[]> {
  const outcomes = new Array<EventOutcome | undefined>(events.length);
  const requests = events.map((event, i) => {
    const { accountId, idempotencyKey, ...body } = event;
    // As on the single route, where an id of any other shape is a 404 before any read.
    if (isIdOf(accountId, ['agency', 'subAccount'])) return usageDebit(principal, accountId, body, idempotencyKey);
    outcomes[i] = { idempotencyKey, refusal: notFound('Account') };
    return undefined;
  });
  const debitable = requests.flatMap((r, i) => (r ? [i] : []));
  const together = await debitTogether(
    debitable.map((i) => requests[i] as DebitRequest),
    (k) => alone(requests[debitable[k] as number] as DebitRequest),
  );
  debitable.forEach((i, k) => {
    const settled = together[k];
    if (settled) outcomes[i] = outcomeOf(events[i]?.idempotencyKey as string, settled);
  });

  // Events of accounts that are not active (or not there): refused one by one, as the single route refuses them.
  const left = debitable.filter((i) => !outcomes[i]);
  await mapLimit(left, CONCURRENCY, async (i) => {
    outcomes[i] = outcomeOf(events[i]?.idempotencyKey as string, await alone(requests[i] as DebitRequest));
  });
  return outcomes as EventOutcome[];
}

function outcomeOf(idempotencyKey: string, settled: Settled): EventOutcome {
  return 'refused' in settled ? { idempotencyKey, refusal: settled.refused } : { idempotencyKey, entry: settled.entry };
}

/** One event debited as the single route debits it; its refusal, or a dependency's failure, is its answer (anything else is a bug: 500). */
async function alone(request: DebitRequest): Promise<Settled> {
  try {
    if (timeLeftMs() < START_MARGIN_MS) throw outOfTime();
    return await debit(request);
  } catch (err) {
    const refused = err instanceof AppError ? err : dependencyFailure(err);
    if (!refused) throw err;
    return { refused };
  }
}

const outOfTime = () =>
  new AppError('try_again', 'The batch ran out of time before this event; send it again with the same key', undefined, {
    retryAfterSeconds: 1,
  });
