/**
 * Lambda as the model sees it [F5, F6 in aws.ts]: one request per execution environment
 * (container); an idle one is reused (the most recently freed first), else a new one is
 * cold-started if the function is under its concurrency cap and the scaling rate allows
 * (1,000 new environments per 10 s, refilled continuously), else the request is throttled
 * (429). Each container has its own memory (hints, lanes), which dies with it; containers idle
 * for long are reclaimed.
 */
import { AWS, coldStartMs } from './aws';
import type { Sim } from './engine';
import type { Rng } from './rng';

export interface Container<S> {
  id: number;
  busy: boolean;
  alive: boolean;
  idleSince: number;
  /** The design's memory in this container. */
  state: S;
}

export interface FleetOptions {
  /** Concurrency cap of the function (reserved concurrency or the account limit). */
  cap: number;
  /** Containers already warm when the run starts (a busy agency's function is warm). */
  warm: number;
  /** A container idle this long is reclaimed (its memory lost). */
  reclaimIdleMs: number;
}

export class Fleet<S> {
  readonly all: Container<S>[] = [];
  private idle: Container<S>[] = [];
  private nextId = 1;
  private scaleTokens = AWS.scalingBurst;
  private scaleAt = 0;
  coldStarts = 0;
  throttles = 0;
  peak = 0;

  constructor(
    private readonly sim: Sim,
    private readonly rng: Rng,
    private readonly opts: FleetOptions,
    private readonly newState: () => S,
  ) {
    for (let i = 0; i < Math.min(opts.warm, opts.cap); i++) this.idle.push(this.create());
    if (Number.isFinite(opts.reclaimIdleMs)) this.sim.after(opts.reclaimIdleMs / 4, () => this.reclaim());
  }

  get alive(): number {
    return this.all.length;
  }

  get busy(): number {
    return this.all.length - this.idle.length;
  }

  /** A container for a request, and the cold start it waits for (0 when warm); undefined: throttled. */
  acquire(): { container: Container<S>; coldMs: number } | undefined {
    const warm = this.idle.pop();
    if (warm) {
      warm.busy = true;
      this.peak = Math.max(this.peak, this.busy);
      return { container: warm, coldMs: 0 };
    }
    this.refillScaling();
    if (this.all.length >= this.opts.cap || this.scaleTokens < 1) {
      this.throttles++;
      return undefined;
    }
    this.scaleTokens--;
    this.coldStarts++;
    const c = this.create();
    c.busy = true;
    this.peak = Math.max(this.peak, this.busy);
    return { container: c, coldMs: coldStartMs(this.rng) };
  }

  release(c: Container<S>): void {
    c.busy = false;
    c.idleSince = this.sim.now;
    this.idle.push(c);
  }

  private create(): Container<S> {
    const c: Container<S> = { id: this.nextId++, busy: false, alive: true, idleSince: this.sim.now, state: this.newState() };
    this.all.push(c);
    return c;
  }

  private refillScaling(): void {
    const now = this.sim.now;
    this.scaleTokens = Math.min(AWS.scalingBurst, this.scaleTokens + ((now - this.scaleAt) / 1000) * AWS.scalingPerSecond);
    this.scaleAt = now;
  }

  /** Lambda reclaims environments idle for long; the least recently used sit at the bottom of the stack. */
  private reclaim(): void {
    const cutoff = this.sim.now - this.opts.reclaimIdleMs;
    const keep = this.idle.filter((c) => c.idleSince > cutoff);
    if (keep.length !== this.idle.length) {
      for (const c of this.idle) if (c.idleSince <= cutoff) c.alive = false;
      this.idle = keep;
      const alive = this.all.filter((c) => c.alive);
      this.all.length = 0;
      this.all.push(...alive);
    }
    this.sim.after(this.opts.reclaimIdleMs / 4, () => this.reclaim());
  }
}
