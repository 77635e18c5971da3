import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DynamoCounts } from './dynamo-meter';
import { percentile } from './figures';
import type { Fleet } from './fleet';

export interface LevelFigures {
  ok: number;
  /** Successful debits per second. */
  rate: number;
  /** In-container time of every request (successful or not). */
  p50: number;
  p99: number;
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
  let ok = 0;
  let tryAgain = 0;
  const other = new Map<string, number>();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const r = await fleet.invoke(nextEvent());
        ms.push(r.ms);
        if (r.status === 201) ok++;
        else if (r.status === 503 && r.code === 'try_again') tryAgain++;
        else other.set(`${r.status} ${r.code ?? ''}`, (other.get(`${r.status} ${r.code ?? ''}`) ?? 0) + 1);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const counts = await fleet.takeCounts();
  ms.sort((a, b) => a - b);
  return { ok, rate: ok / elapsed, p50: percentile(ms, 0.5), p99: percentile(ms, 0.99), counts, tryAgain, other };
}

/**
 * Makes every container warm for these accounts, as long-lived Lambda containers are: each
 * serves one debit per account it has not seen yet (account and balance hints read once),
 * and a container's first warm-up is at least `FIRST_WARM_UP` debits (code compiled by V8,
 * connection open; DynamoDB Local's JVM warms up too). Containers in parallel, each one
 * request at a time.
 */
const FIRST_WARM_UP = 10;
export async function warm(
  fleet: Fleet,
  accounts: string[],
  seen: Set<string>[],
  eventFor: (accountId: string) => APIGatewayProxyEventV2,
): Promise<void> {
  await Promise.all(
    Array.from({ length: fleet.size }, async (_, i) => {
      const first = !seen[i];
      const mine = (seen[i] ??= new Set());
      const todo = accounts.filter((id) => !mine.has(id));
      while (first && todo.length < FIRST_WARM_UP) todo.push(accounts[todo.length % accounts.length]!);
      for (const accountId of todo) {
        const r = await fleet.invokeOn(i, eventFor(accountId));
        if (r.status !== 201) throw new Error(`warm-up debit → ${r.status} ${r.code ?? ''}`);
        mine.add(accountId);
      }
    }),
  );
}
