import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ClockSetting } from '#core/clock';
import type { ContainerFailure, FromContainer, LocalFunction, ToContainer } from './lambda-protocol';

const containerModule = fileURLToPath(new URL('./lambda-container.ts', import.meta.url));
/** tsx's loader, so a container imports the TypeScript sources as `npm start` does (resolved here: any cwd, any runner). */
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface PoolOptions {
  /** Lambda's concurrency for this function: at most this many containers. */
  maxContainers: number;
  /** How long an invocation waits for a container when all are busy before PoolBusyError (default: as long as it takes). */
  maxWaitMs?: number;
  /** Each line a container writes (stdout and stderr), prefixed with `<function>#<container>`; default: the containers inherit this process's output. */
  log?: (line: string) => void;
  /** A module exporting a ContainerExtension, loaded in every container (lambda-protocol.ts). */
  extension?: string;
  /** Another handler module to run as this function, under its table keys (a test seam; default: the function's own). */
  module?: string;
  env?: NodeJS.ProcessEnv;
}

export interface Invocation<T = unknown> {
  value: T;
  /** Time inside the container, without any wait for one. */
  ms: number;
  figures?: Record<string, number>;
  container: number;
  /** This invocation started its container. */
  cold: boolean;
}

/** The handler threw (or its container died): what a Lambda invocation error is. */
export class InvocationError extends Error {
  constructor(
    readonly fn: LocalFunction,
    failure: ContainerFailure,
    readonly ms = 0,
  ) {
    super(`${fn}: ${failure.message}`);
    this.name = failure.name === 'Error' ? 'InvocationError' : failure.name;
    if (failure.stack) this.stack = failure.stack;
  }
}

/** Every container stayed busy for `maxWaitMs`: Lambda at its concurrency limit. */
export class PoolBusyError extends Error {
  constructor(fn: LocalFunction, containers: number, ms: number) {
    super(`all ${containers} containers of ${fn} stayed busy for ${ms} ms`);
    this.name = 'PoolBusyError';
  }
}

interface Container {
  child: ChildProcess;
  ready: Promise<void>;
  replies: Map<number, (m: Extract<FromContainer, { type: 'result' }>) => void>;
}

/**
 * One function's containers, dispatched as Lambda dispatches: an invocation goes to an idle
 * container (which one is not specified by Lambda; here one at random, so consecutive requests
 * usually land in different containers, each with its own hints); when none is idle a new one
 * is cold-started, up to `maxContainers`; past that the invocation waits for one to be free.
 * Containers are numbered; `limit(k)` keeps invocations on 0…k−1 (the bench measures several
 * concurrencies with one pool).
 */
export class FunctionPool {
  private readonly containers: Array<Container | undefined> = [];
  private idle = new Set<number>();
  private waiting: Array<{ take: (i: number) => void }> = [];
  private active: number;
  private seq = 0;
  private stopping = false;
  private coldStarts = 0;

  constructor(
    readonly fn: LocalFunction,
    private readonly opts: PoolOptions,
  ) {
    this.active = opts.maxContainers;
  }

  /** Starts containers 0…n−1 (those not running) and waits until each is ready: warm from the first invocation. */
  async prewarm(n: number): Promise<void> {
    const starting: Promise<void>[] = [];
    for (let i = 0; i < Math.min(n, this.opts.maxContainers); i++) {
      if (this.containers[i]) continue;
      starting.push(this.spawn(i).ready.then(() => this.release(i)));
    }
    await Promise.all(starting);
  }

  /** From now on invocations go to containers 0…k−1 only. Call with nothing in flight. */
  limit(k: number): void {
    this.active = Math.min(k, this.opts.maxContainers);
    this.idle = new Set([...this.idle].filter((i) => i < this.active));
  }

  /** Containers running now. */
  get size(): number {
    return this.containers.filter(Boolean).length;
  }

  stats() {
    return { containers: this.size, idle: this.idle.size, waiting: this.waiting.length, coldStarts: this.coldStarts };
  }

  /** One invocation, on an idle container, a new one, or the first to be free. */
  async invoke<T = unknown>(event: unknown, clock?: ClockSetting): Promise<Invocation<T>> {
    const { i, cold } = await this.acquire();
    try {
      return { ...(await this.invokeOn<T>(i, event, clock)), cold };
    } finally {
      this.release(i);
    }
  }

  /** One invocation on container `i` (started if it is not running); the caller keeps it to one at a time. */
  async invokeOn<T = unknown>(i: number, event: unknown, clock?: ClockSetting): Promise<Invocation<T>> {
    const m = await this.ask(i, (id) => ({ type: 'invoke', id, event, clock }));
    if (!m.ok) throw new InvocationError(this.fn, m.error ?? { name: 'Error', message: 'failed' }, m.ms);
    return { value: m.value as T, ms: m.ms, figures: m.figures, container: i, cold: false };
  }

  /** A call of container `i`'s extension. */
  async call<T = unknown>(i: number, name: string, ...args: unknown[]): Promise<T> {
    const m = await this.ask(i, (id) => ({ type: 'call', id, name, args }));
    if (!m.ok) throw new InvocationError(this.fn, m.error ?? { name: 'Error', message: 'failed' });
    return m.value as T;
  }

  /** The same call on every running container. */
  callAll<T = unknown>(name: string, ...args: unknown[]): Promise<T[]> {
    return Promise.all(this.containers.flatMap((c, i) => (c ? [this.call<T>(i, name, ...args)] : [])));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.containers.map(
        (c) =>
          c &&
          new Promise<void>((resolve) => {
            if (c.child.exitCode !== null || c.child.signalCode !== null) return resolve();
            c.child.once('exit', () => resolve());
            if (c.child.connected) c.child.disconnect();
            else c.child.kill();
          }),
      ),
    );
  }

  private async acquire(): Promise<{ i: number; cold: boolean }> {
    const idle = [...this.idle];
    if (idle.length) {
      const i = idle[Math.floor(Math.random() * idle.length)] as number;
      this.idle.delete(i);
      return { i, cold: false };
    }
    const free = Array.from({ length: this.active }, (_, i) => i).find((i) => !this.containers[i]);
    if (free !== undefined) {
      this.coldStarts++;
      await this.spawn(free).ready;
      return { i: free, cold: true };
    }
    return new Promise((resolve, reject) => {
      const waiter = {
        take: (i: number) => {
          clearTimeout(timer);
          resolve({ i, cold: false });
        },
      };
      const wait = this.opts.maxWaitMs;
      const timer =
        wait === undefined
          ? undefined
          : setTimeout(() => {
              this.waiting = this.waiting.filter((w) => w !== waiter);
              reject(new PoolBusyError(this.fn, this.active, wait));
            }, wait);
      this.waiting.push(waiter);
    });
  }

  private release(i: number): void {
    if (i >= this.active || !this.containers[i]) {
      this.dispatchCold();
      return;
    }
    const next = this.waiting.shift();
    if (next) next.take(i);
    else this.idle.add(i);
  }

  /** A container died or left the active range: a waiting invocation may start a new one. */
  private dispatchCold(): void {
    const free = Array.from({ length: this.active }, (_, i) => i).find((i) => !this.containers[i]);
    const next = free !== undefined ? this.waiting.shift() : undefined;
    if (next && free !== undefined) {
      this.coldStarts++;
      this.spawn(free).ready.then(
        () => next.take(free),
        () => this.dispatchCold(),
      );
    }
  }

  private spawn(i: number): Container {
    const { log, extension, module, env } = this.opts;
    const flags = [...(extension ? [`--extension=${extension}`] : []), ...(module ? [`--module=${module}`] : [])];
    const child = fork(containerModule, [this.fn, ...flags], {
      // The Node running the stack (fork's default, said here): never whichever `node` PATH finds first.
      execPath: process.execPath,
      execArgv: ['--import', tsx],
      // One invocation at a time, as standard Lambda: never the in-process runtime's many at once (invocations.ts).
      env: { ...(env ?? process.env), AWS_LAMBDA_MAX_CONCURRENCY: undefined },
      stdio: ['ignore', log ? 'pipe' : 'inherit', log ? 'pipe' : 'inherit', 'ipc'],
    });
    const name = `${this.fn}#${i}`;
    if (log) for (const out of [child.stdout, child.stderr]) lines(out, (line) => log(`${name} ${line}`));
    const container: Container = {
      child,
      replies: new Map(),
      ready: new Promise<void>((resolve, reject) => {
        child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before it was ready`)));
        child.on('message', (m: FromContainer) => m.type === 'ready' && resolve());
      }),
    };
    container.ready.catch(() => undefined);
    child.on('message', (m: FromContainer) => {
      if (m.type !== 'result') return;
      const reply = container.replies.get(m.id);
      container.replies.delete(m.id);
      reply?.(m);
    });
    child.on('exit', (code, signal) => {
      if (this.containers[i] === container) this.containers[i] = undefined;
      this.idle.delete(i);
      if (this.stopping) return;
      log?.(`${name} exited (${signal ?? code})`);
      // Lambda answers an invocation whose environment died with an error, not silence.
      for (const reply of container.replies.values())
        reply({
          type: 'result',
          id: 0,
          ok: false,
          error: { name: 'Error', message: `${name} exited (${signal ?? code})` },
          ms: 0,
        });
      container.replies.clear();
      this.dispatchCold();
    });
    this.containers[i] = container;
    return container;
  }

  private async ask(i: number, message: (id: number) => ToContainer): Promise<Extract<FromContainer, { type: 'result' }>> {
    const container = this.containers[i] ?? this.spawn(i);
    await container.ready;
    const id = ++this.seq;
    return new Promise((resolve) => {
      if (!container.child.connected) {
        const error = { name: 'Error', message: `${this.fn}#${i} is gone` };
        return resolve({ type: 'result', id, ok: false, error, ms: 0 });
      }
      container.replies.set(id, resolve);
      container.child.send(message(id));
    });
  }
}

function lines(stream: Readable | null, each: (line: string) => void): void {
  if (stream) createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', each);
}

/**
 * The local Lambda service: one pool per function, each of at most `concurrency` containers,
 * started on first use. The gateway and the pollers invoke through it instead of calling the
 * handler modules in their own process.
 */
export function lambdaRuntime(opts: { concurrency: number; log?: (line: string) => void; maxWaitMs?: number }) {
  const pools = new Map<LocalFunction, FunctionPool>();
  const pool = (fn: LocalFunction) => {
    let p = pools.get(fn);
    if (!p) {
      p = new FunctionPool(fn, { maxContainers: opts.concurrency, log: opts.log, maxWaitMs: opts.maxWaitMs });
      pools.set(fn, p);
    }
    return p;
  };
  return {
    concurrency: opts.concurrency,
    invoke: async <T>(fn: LocalFunction, event: unknown, clock?: ClockSetting): Promise<T> =>
      (await pool(fn).invoke<T>(event, clock)).value,
    /** Per function: containers running, idle, invocations waiting, cold starts so far. */
    stats: () => Object.fromEntries([...pools].map(([fn, p]) => [fn, p.stats()])),
    stop: () => Promise.all([...pools.values()].map((p) => p.stop())).then(() => undefined),
  };
}
export type LambdaRuntime = ReturnType<typeof lambdaRuntime>;
