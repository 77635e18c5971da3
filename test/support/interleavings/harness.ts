import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type fc from 'fast-check';
import { vi } from 'vitest';
import { dynamo as sweeperDynamo } from '#db/client';
import { type Container, startContainers } from '../containers';
import { classify, networkError } from './calls';
import { type Fault, IN_PROCESS, STACK, type Via } from './commands';
import { History, type Standing } from './history';

/**
 * The machinery under the interleavings model: the test's own containers (support/containers.ts)
 * and the shared stack's gateway; on every DynamoDB call of the test's containers (and of the
 * sweeper, which runs in this test's own modules), a scheduling point of fast-check's
 * scheduler and the place a fault strikes; the clock the leases are read by.
 *
 * Ordering: every write waits for the scheduler (a read goes at once: the write after it still
 * waits, so a read-then-write is still split), as does every client before it sends; unless
 * the run lets calls overlap, the scheduler picks the next only once every request to the
 * test's containers is parked at such a point or queued for its container (`busy` counts the
 * ones that are not), so which container's read-modify-write goes first is the scheduler's
 * choice, not the machine's. The stack's gateway, another process, goes at its own pace. A
 * container serves one request at a time, as a Lambda container does.
 */
export interface Tag {
  run: Run;
  label: string;
  /** The container serving it; `sweeper` for what the test runs itself (sweeps, collects, redeliveries). */
  via: Via | 'sweeper';
  fault?: Fault & { fired?: boolean };
}

export const requestContext = new AsyncLocalStorage<Tag>();

export class Run {
  readonly history: History;
  readonly tags = new Map<string, Tag>();
  readonly dead = new Set<Via>();
  /** Requests (and test-side jobs) neither parked at a scheduling point nor queued for a container. */
  busy = 0;
  lanesClaimed = 0;
  /** Lanes filled ahead that a debit of the test's containers took (debit-ahead.ts). */
  lanesTaken = 0;
  readonly faults: string[] = [];
  readonly problems: string[] = [];

  constructor(
    readonly scheduler: fc.Scheduler,
    readonly overlap: boolean,
    initial: Standing[],
  ) {
    this.history = new History(initial);
  }

  /** A scheduling point inside a request (it stops counting as busy while it waits). */
  async park(label: string): Promise<void> {
    this.busy--;
    try {
      await this.scheduler.schedule(Promise.resolve(), label);
    } finally {
      this.busy++;
    }
  }

  /** A scheduling point outside any request (a client about to send). */
  async point(label: string): Promise<void> {
    await this.scheduler.schedule(Promise.resolve(), label);
  }

  /** The container a request goes to: the one asked for, else (it crashed) the next live one. */
  live(via: Via): Via {
    for (let i = 0; i < 4; i++) {
      const v = ((via + i) % 4) as Via;
      if (!this.dead.has(v)) return v;
    }
    return STACK;
  }

  /** Until every request is parked or queued, at most `capMs` (what is not tracked may be running). */
  async quiet(capMs = 10): Promise<void> {
    const until = performance.now() + capMs;
    while (this.busy > 0 && performance.now() < until) await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
  }
}

export class Harness {
  run?: Run;
  private queues: Promise<void>[] = [];
  private offsetMs = 0;

  private constructor(readonly containers: Container[]) {}

  static async start(): Promise<Harness> {
    let harness: Harness | undefined;
    // Requests before the harness exists are the containers' warm-ups: served as they come.
    const containers = await startContainers(IN_PROCESS.length, async (index, req, serve) =>
      harness ? harness.serve(index as Via, req, serve) : void (await serve()),
    );
    harness = new Harness(containers);
    for (const c of containers) harness.hook(c.dynamo);
    harness.hook(sweeperDynamo);
    harness.installClock();
    return harness;
  }

  urlOf(via: Via, stackUrl: string): string {
    return via === STACK ? stackUrl : (this.containers[via] as Container).url;
  }

  /** The scheduler's act: before each release, wait until the run's requests are parked (unless it lets them overlap). */
  act = async (f: () => Promise<unknown>) => {
    const run = this.run;
    if (run && !run.overlap) await run.quiet();
    await f();
  };

  /** One request at a time per container; inside a run, tagged and counted. */
  private async serve(index: Via, req: IncomingMessage, serve: () => Promise<void>): Promise<void> {
    const run = this.run;
    const tag = run?.tags.get(String(req.headers['x-model-tag']));
    if (!run || !tag) return void (await serve());
    run.busy--;
    const previous = this.queues[index] ?? Promise.resolve();
    let release = () => {};
    this.queues[index] = new Promise<void>((r) => {
      release = r;
    });
    await previous;
    run.busy++;
    try {
      await requestContext.run({ ...tag, via: index }, serve);
    } finally {
      release();
    }
  }

  /** The scheduling point and the fault, on every call a tagged request (or test-side job) makes. */
  private hook(client: DynamoDBClient): void {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const tag = requestContext.getStore();
        if (!tag || tag.run !== this.run) return next(args);
        const run = tag.run;
        // A crashed container reaches nothing: its requests answer 503, its clients go elsewhere.
        if (tag.via !== 'sweeper' && run.dead.has(tag.via)) throw networkError();
        const call = classify(context.commandName ?? '', args.input);
        // Writes wait for the scheduler; reads go at once (a read-then-write is still split: its write waits).
        if (!call.points.includes('read')) await run.park(`${tag.label} ${call.name}`);
        const fault = tag.fault && !tag.fault.fired && call.points.includes(tag.fault.point) ? tag.fault : undefined;
        if (fault) {
          fault.fired = true;
          run.faults.push(`${tag.label}: ${fault.crash ? 'crash' : 'network error'} ${fault.when} ${call.name}`);
          if (fault.crash && tag.via !== 'sweeper') run.dead.add(tag.via);
          if (fault.when === 'before') throw networkError();
        }
        const out = await next(args);
        if (call.points.includes('claim')) run.lanesClaimed++;
        if (call.points.includes('laneDebit') && JSON.stringify(args.input).includes('":ahead"')) run.lanesTaken++;
        if (fault) throw networkError();
        return out;
      },
      { step: 'initialize', name: 'interleavings-model' },
    );
  }

  /**
   * This process's clock, moved on by `expireLeases` (a lease is read by Date.now: lanes.ts):
   * a sweep can then find lanes idle without the test waiting a minute. Back to the real time
   * after each run, when nothing of it is in flight.
   */
  private installClock(): void {
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() + this.offsetMs);
  }
  expireLeases(ms: number): void {
    this.offsetMs += ms;
  }
  resetClock(): void {
    this.offsetMs = 0;
  }

  async stop(): Promise<void> {
    vi.restoreAllMocks();
    await Promise.all(this.containers.map((c) => c.stop()));
  }
}
