/**
 * Instants for tests that must not straddle a UTC day or month end by bad luck: every request
 * of such a test runs at an instant it sets (`clock` of api()/invoke(), the test stack's
 * `x-test-clock`), chosen in the middle of a day in the middle of a month, in the past (tokens
 * issued now stay valid then: they only expire).
 */

/** Successive instants from `startIso`, `stepMs` apart: one per call, so entries keep their order. */
export function steppingClock(startIso: string, stepMs = 1000): () => string {
  const start = Date.parse(startIso);
  if (Number.isNaN(start)) throw new Error(`not an instant: ${startIso}`);
  let n = 0;
  return () => new Date(start + stepMs * n++).toISOString();
}

/** `startIso` moved by `ms`, as an ISO instant. */
export const plusMs = (startIso: string, ms: number) => new Date(Date.parse(startIso) + ms).toISOString();
