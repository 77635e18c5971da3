import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Every "now" in the code comes from here. Deployed, it is the system clock. Tests pin it per
 * request (the local gateway of the test stack honours an `x-test-clock` header; in-process
 * tests wrap calls in `withClock`), so a month end or a midnight can be crossed on purpose
 * instead of by bad luck, without moving the clock of other tests running at the same time.
 */
export type ClockSetting = { at: number } | { offsetMs: number };

const pinned = new AsyncLocalStorage<ClockSetting>();

export function nowMs(): number {
  const setting = pinned.getStore();
  if (!setting) return Date.now();
  return 'at' in setting ? setting.at : Date.now() + setting.offsetMs;
}

export const now = (): Date => new Date(nowMs());
export const nowIso = (): string => now().toISOString();

/** `2026-11` — meters count UTC calendar months. */
export const utcMonth = (d: Date = now()): string => d.toISOString().slice(0, 7);
/** `2026-11-27` — usage counters and series count UTC days. */
export const utcDate = (d: Date | number = now()): string => new Date(d).toISOString().slice(0, 10);

/** Runs `fn` (and everything it awaits) with the clock set. Test seam: deployed code never calls it. */
export function withClock<T>(setting: ClockSetting, fn: () => T): T {
  return pinned.run(setting, fn);
}

/** Reads the test stack's clock header: an ISO instant, or `+<ms>`/`-<ms>` as an offset. */
export function parseClockHeader(value: string | undefined): ClockSetting | undefined {
  if (!value) return undefined;
  if (/^[+-]\d{1,13}$/.test(value)) return { offsetMs: Number(value) };
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : { at };
}
