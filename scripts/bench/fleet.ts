import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FromContainer, ToContainer } from './container-protocol';
import { addCounts, type DynamoCounts, zeroCounts } from './dynamo-meter';

export interface Invocation {
  status: number;
  code?: string;
  /** Time inside the container (the handler's duration), without any wait for a free container. */
  ms: number;
  /** TransactWriteItems attempts this request made. */
  attempts: number;
}

const containerModule = fileURLToPath(new URL('./container.ts', import.meta.url));

/**
 * K container processes of the usage function and the dispatch rule Lambda applies: a
 * request goes to an idle container, never to a busy one. Which idle container Lambda picks is
 * not specified; here it is one at random, so consecutive requests usually land in different
 * containers, each with its own (possibly stale) hints. Only the first `use(k)` containers
 * take requests, so one fleet serves every K; when all of them are busy a request waits.
 */
export class Fleet {
  private idle = new Set<number>();
  private waiting: Array<(i: number) => void> = [];
  private active = 0;
  private seq = 0;
  private replies = new Map<number, (m: FromContainer) => void>();
  private stopping = false;

  private constructor(private readonly children: ChildProcess[]) {
    for (const child of children) {
      // A lost container would leave its request unanswered and the run hanging: stop loudly.
      child.on('exit', (code) => {
        if (this.stopping) return;
        console.error(`a container process exited (${code}) during the run`);
        process.exit(1);
      });
      child.on('message', (m: FromContainer) => {
        if (m.type === 'ready') return;
        const reply = this.replies.get(m.id);
        this.replies.delete(m.id);
        reply?.(m);
      });
    }
  }

  static async start(size: number, env: NodeJS.ProcessEnv): Promise<Fleet> {
    const children = Array.from({ length: size }, () =>
      fork(containerModule, [], { execArgv: ['--import', 'tsx'], env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve, reject) => {
            child.once('exit', (code) => reject(new Error(`a container exited (${code}) before it was ready`)));
            child.on('message', (m: FromContainer) => m.type === 'ready' && resolve());
          }),
      ),
    );
    return new Fleet(children);
  }

  get size(): number {
    return this.children.length;
  }

  /** From now on requests go to containers 0…k−1 only. Call between levels, with nothing in flight. */
  use(k: number): void {
    this.active = Math.min(k, this.children.length);
    this.idle = new Set(Array.from({ length: this.active }, (_, i) => i));
  }

  /** One request, to an idle container among the active ones (waiting for one if all are busy). */
  async invoke(event: APIGatewayProxyEventV2): Promise<Invocation> {
    const i = await this.acquire();
    try {
      return await this.invokeOn(i, event);
    } finally {
      this.release(i);
    }
  }

  /** One request to container `i`; the caller keeps it to one at a time per container (warm-up). */
  invokeOn(i: number, event: APIGatewayProxyEventV2): Promise<Invocation> {
    return this.ask<Extract<FromContainer, { type: 'result' }>>(i, (id) => ({ type: 'invoke', id, event }));
  }

  /** Container `i` reads its hints for these accounts (see container.ts `prime`). */
  async prime(i: number, accountIds: string[]): Promise<void> {
    await this.ask(i, (id) => ({ type: 'prime', id, accountIds }));
  }

  configure(conflictRate: number): void {
    for (const child of this.children) this.post(child, { type: 'configure', conflictRate });
  }

  /** Every container's counts since the last take, summed; each container starts again at zero. */
  async takeCounts(): Promise<DynamoCounts> {
    const all = await Promise.all(
      this.children.map((_, i) => this.ask<Extract<FromContainer, { type: 'counts' }>>(i, (id) => ({ type: 'take-counts', id }))),
    );
    return all.reduce((sum, m) => addCounts(sum, m.counts), zeroCounts());
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.disconnect();
          }),
      ),
    );
  }

  private acquire(): Promise<number> {
    if (this.idle.size) {
      const ids = [...this.idle];
      const i = ids[Math.floor(Math.random() * ids.length)]!;
      this.idle.delete(i);
      return Promise.resolve(i);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(i: number): void {
    if (i >= this.active) return;
    const next = this.waiting.shift();
    if (next) next(i);
    else this.idle.add(i);
  }

  private ask<T extends FromContainer>(i: number, message: (id: number) => ToContainer): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve) => {
      this.replies.set(id, resolve as (m: FromContainer) => void);
      this.post(this.children[i]!, message(id));
    });
  }

  private post(child: ChildProcess, message: ToContainer): void {
    child.send(message);
  }
}
