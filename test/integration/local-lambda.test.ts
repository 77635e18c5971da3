import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FunctionPool, InvocationError, PoolBusyError } from '#local/lambda-pool';
import '../support/stack';

/**
 * The local Lambda runtime (packages/local/lambda-pool.ts, lambda-container.ts) as Lambda runs
 * functions: each invocation in a container process of its own that serves one at a time, idle
 * containers reused, new ones started up to the concurrency, a bounded wait past it, a dead
 * container's invocation failed and its place taken by a new one; each container under its
 * function's table keys and the test clock, its output in the runtime's log. The probe handler
 * (test/support/lambda-probe.ts) reports what it saw from inside.
 */
const probe = fileURLToPath(new URL('../support/lambda-probe.ts', import.meta.url));
type Probe = { pid: number; now: string; read: string; mostAtOnce: number };

const pools: FunctionPool[] = [];
const poolOf = (fn: 'docs' | 'campaigns', opts: { maxContainers: number; maxWaitMs?: number; log?: (l: string) => void }) => {
  const pool = new FunctionPool(fn, { log: () => {}, ...opts, module: probe });
  pools.push(pool);
  return pool;
};
afterAll(() => Promise.all(pools.map((p) => p.stop())));

describe('local Lambda runtime: container processes', () => {
  it('runs concurrent invocations in separate processes, one at a time each, starting no more than its concurrency', async () => {
    const lines: string[] = [];
    const pool = poolOf('docs', { maxContainers: 2, log: (l) => lines.push(l) });
    const answers = await Promise.all(Array.from({ length: 6 }, () => pool.invoke<Probe>({ sleepMs: 300 })));

    const pids = new Set(answers.map((a) => a.value.pid));
    expect(pids.size).toBe(2);
    expect(pids.has(process.pid)).toBe(false);
    expect(answers.every((a) => a.value.mostAtOnce === 1)).toBe(true);
    expect(answers.filter((a) => a.cold)).toHaveLength(2);
    expect(pool.stats()).toMatchObject({ containers: 2, coldStarts: 2, waiting: 0 });
    // The containers' own output reaches the runtime's log, named by function and container.
    expect(lines.some((l) => /^docs#[01] probe says hello from \d+$/.test(l))).toBe(true);

    // Warm now: the next invocation reuses a container.
    const again = await pool.invoke<Probe>({});
    expect(again.cold).toBe(false);
    expect(pids.has(again.value.pid)).toBe(true);
  });

  it("applies the function's table keys and the clock it is given", async () => {
    const at = '2026-05-15T12:00:00.000Z';
    const docs = poolOf('docs', { maxContainers: 1 });
    const campaigns = poolOf('campaigns', { maxContainers: 1 });
    // docs is given no table at all; campaigns reads accounts (packages/db/access.ts).
    expect((await docs.invoke<Probe>({}, { at: Date.parse(at) })).value).toMatchObject({
      read: 'AccessDeniedException',
      now: at,
    });
    expect((await campaigns.invoke<Probe>({})).value.read).toBe('allowed');
  });

  it('makes an invocation wait for a busy container, and gives up past the bound', async () => {
    const pool = poolOf('docs', { maxContainers: 1, maxWaitMs: 200 });
    await pool.prewarm(1);
    const slow = pool.invoke<Probe>({ sleepMs: 2000 });
    await expect(pool.invoke({})).rejects.toBeInstanceOf(PoolBusyError);
    await expect(slow).resolves.toMatchObject({ value: { read: 'AccessDeniedException' } });
  });

  it('fails the invocation of a container that dies, and starts another for the next', async () => {
    const pool = poolOf('docs', { maxContainers: 1 });
    const first = await pool.invoke<Probe>({});
    await expect(pool.invoke({ exit: true })).rejects.toBeInstanceOf(InvocationError);
    const next = await pool.invoke<Probe>({});
    expect(next.cold).toBe(true);
    expect(next.value.pid).not.toBe(first.value.pid);
  });
});
