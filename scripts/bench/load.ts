import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DynamoCounts } from './dynamo-meter';
import { percentile } from './figures';
import type { Fleet } from './fleet';

export interface LevelFigures {
  ok: number;
  /** Every request answered (successful or not), and those answered with a 5xx (503 try_again included). */
  requests: number;
  serverErrors: number;
  /** Successful debits per second. */
  rate: number;
  /** In-container time of every request (successful or not). */
  p50: number;
  p99: number;
  /** Transaction attempts of the 99th-percentile request, and of the worst one. */
  attemptsP99: number;
  attemptsMax: number;
  counts: DynamoCounts;
  /** 503 `try_again` answers: conflicts that outlasted the retries (nothing written). */
  tryAgain: number;
  /** Anything else that was not a 201, by status and code: should stay empty. */
  other: Map<string, number>;
}

/**
 * `concurrency` clients, each sending its next debit as soon as the last one answered, for
 * `seconds`, through the fleet's dispatch (an idle container per request). The containers'
 * counters are zeroed first, so warm-up and earlier levels do not count.
 */
export async function measureLevel(
  fleet: Fleet,
  concurrency: number,
  seconds: number,
  nextEvent: () => APIGatewayProxyEventV2,
): Promise<LevelFigures> {
  await fleet.takeCounts();
  const ms: number[] = [];
  const attempts: number[] = [];
  let ok = 0;
  let requests = 0;
  let serverErrors = 0;
  let tryAgain = 0;
  const other = new Map<string, number>();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const r = await fleet.invoke(nextEvent());
        ms.push(r.ms);
        attempts.push(r.attempts);
        requests++;
        if (r.status >= 500) serverErrors++;
        if (r.status === 201) ok++;
        else if (r.status === 503 && r.code === 'try_again') tryAgain++;
        else other.set(`${r.status} ${r.code ?? ''}`, (other.get(`${r.status} ${r.code ?? ''}`) ?? 0) + 1);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const counts = await fleet.takeCounts();
  ms.sort((a, b) => a - b);
  attempts.sort((a, b) => a - b);
  return {
    ok,
    requests,
    serverErrors,
    rate: ok / elapsed,
    p50: percentile(ms, 0.5),
    p99: percentile(ms, 0.99),
    attemptsP99: percentile(attempts, 0.99),
    attemptsMax: attempts.at(-1) ?? Number.NaN,
    counts,
    tryAgain,
    other,
  };
}

/**
 * Makes every container warm, as long-lived Lambda containers are: the first time, each serves
 * `FIRST_WARM_UP` debits (code compiled by V8, connection open; DynamoDB Local's JVM warms up
 * too), handed round the containers one at a time so they do not contend; then each reads its
 * hints for the accounts it has not seen (the accounts must have been debited once already,
 * so their meters are on this month, as a busy account's are).
 */
const FIRST_WARM_UP = 10;
export async function warm(
  fleet: Fleet,
  accounts: string[],
  seen: Set<string>[],
  eventFor: (accountId: string) => APIGatewayProxyEventV2,
): Promise<void> {
  for (let round = 0; round < FIRST_WARM_UP; round++) {
    for (let i = 0; i < fleet.size; i++) {
      if (seen[i]) continue;
      const r = await fleet.invokeOn(i, eventFor(accounts[round % accounts.length]!));
      if (r.status !== 201) throw new Error(`warm-up debit → ${r.status} ${r.code ?? ''}`);
    }
  }
  await Promise.all(
    Array.from({ length: fleet.size }, async (_, i) => {
      const mine = (seen[i] ??= new Set());
      const todo = accounts.filter((id) => !mine.has(id));
      await fleet.prime(i, todo);
      for (const id of todo) mine.add(id);
    }),
  );
}
