import { nowIso } from '#core/clock';
import { accountKey, accountShape } from '#db/items/account';
import { getItem } from '#db/read';

/**
 * A handler module for the local Lambda runtime's tests (FunctionPool's `module` seam): it
 * says which process ran it, at what time, how many invocations that process was serving at
 * once, and whether its function's table keys let it read an account item; it logs one line,
 * and can take its time or kill its container.
 */
let active = 0;
let mostAtOnce = 0;

export async function handler(event: { sleepMs?: number; exit?: boolean }) {
  active++;
  mostAtOnce = Math.max(mostAtOnce, active);
  try {
    console.log(`probe says hello from ${process.pid}`);
    if (event.exit) process.exit(3);
    if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
    const read = await getItem(accountKey('agc_probe'), accountShape).then(
      () => 'allowed',
      (err: Error) => err.name,
    );
    return { pid: process.pid, now: nowIso(), read, mostAtOnce };
  } finally {
    active--;
  }
}
