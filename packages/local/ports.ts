import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Fails fast with a clear message when a configured port is taken. */
export async function assertPortFree(port: number, name: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', () => reject(new Error(`port ${port} (${name}) is already in use; set ${name} to another port`)));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

/**
 * A port nothing listens on, for a server that starts a little later. Picked BELOW the kernel's
 * ephemeral range: a port the kernel hands out (`listen(0)`) can be given to any outgoing
 * connection in the meantime (this process talks to DynamoDB and the emulators all the time),
 * and the server's listen then fails with EADDRINUSE. Ports below that range are never
 * assigned to connections, only taken by listeners, which the trial bind sees.
 */
export async function freePort(): Promise<number> {
  const below = ephemeralRangeStart();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + randomInt(Math.max(1, below - 20_000));
    if (await canListen(port)) return port;
  }
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** Linux says where its ephemeral ports start; elsewhere, IANA's range (49152). */
function ephemeralRangeStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return start > 21_000 ? start : 49_152;
  } catch {
    return 49_152;
  }
}

const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
