import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The time a request has left (Lambda's remaining time minus a margin for answering). Loops
 * that retry (commits under contention) stop in time to answer 503 `try_again` themselves,
 * rather than be cut off by the hard timeout with half an answer.
 */
const deadlines = new AsyncLocalStorage<number>();

export function withDeadline<T>(deadlineEpochMs: number, fn: () => T): T {
  return deadlines.run(deadlineEpochMs, fn);
}

/** Milliseconds left before the request must answer; Infinity outside a request (scripts, tests). */
export function timeLeftMs(): number {
  const deadline = deadlines.getStore();
  return deadline === undefined ? Number.POSITIVE_INFINITY : deadline - Date.now();
}
