import type { Server } from 'node:http';
import type { Instance } from './supervisor';

// How the supervisor sees each kind of engine run in this process; DynamoDB Local, a child
// process, is in dynamodb.ts.

/** The death listeners of one instance, told at most once. */
export function deathNotice() {
  const listeners: Array<(reason: string) => void> = [];
  let told = false;
  return {
    onDeath: (listener: (reason: string) => void) => void listeners.push(listener),
    tell(reason: string) {
      if (told) return;
      told = true;
      for (const listener of listeners) listener(reason);
    },
  };
}

/** An in-process emulator's HTTP server as an instance: it dies when it stops listening. */
export function serverInstance(server: Server): Instance {
  let asked = false;
  let failure: string | undefined;
  const death = deathNotice();
  const closed = new Promise<void>((resolve) => server.once('close', resolve));
  void closed.then(() => asked || death.tell(failure ?? 'stopped listening'));
  const close = () => {
    server.close();
    server.closeAllConnections();
    return closed;
  };
  server.on('error', (err) => {
    failure = `failed (${err.message})`;
    void close();
  });
  return {
    onDeath: death.onDeath,
    stop: () => {
      asked = true;
      return close();
    },
    kill: close,
  };
}

/** A poller as an instance: it dies if its loop ends without being stopped. */
export function loopInstance(loop: { done: Promise<void>; stop(): Promise<void> }): Instance {
  let asked = false;
  const death = deathNotice();
  void loop.done.then(
    () => asked || death.tell('stopped polling'),
    (err: Error) => asked || death.tell(`crashed (${err.message})`),
  );
  return {
    onDeath: death.onDeath,
    stop: () => {
      asked = true;
      return loop.stop();
    },
    kill: () => loop.stop(),
  };
}
