/**
 * The discrete-event core: a clock in milliseconds, a queue of events ordered by (time, order
 * of scheduling), and processes written as generators. A process yields a number to wait that
 * many milliseconds, or a Signal to park until someone notifies it; `yield*` composes
 * processes synchronously, so a request reads as straight-line code and no event can slip in
 * between two steps that happen at the same instant. Nothing here uses real time or
 * Math.random: a run is a function of its inputs.
 */
export type Step = number | Signal;
export type Proc<T = void> = Generator<Step, T, void>;

interface Event {
  t: number;
  seq: number;
  fn: () => void;
}

export class Signal {
  private parked: (() => void)[] = [];
  constructor(private readonly sim: Sim) {}
  /** Resumes every process parked on this signal, now (in scheduling order). */
  notify(): void {
    const parked = this.parked;
    this.parked = [];
    for (const resume of parked) this.sim.at(this.sim.now, resume);
  }
  park(resume: () => void): void {
    this.parked.push(resume);
  }
  get waiting(): number {
    return this.parked.length;
  }
}

export class Sim {
  now = 0;
  events = 0;
  private heap: Event[] = [];
  private seq = 0;

  at(t: number, fn: () => void): void {
    const e: Event = { t: Math.max(t, this.now), seq: this.seq++, fn };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (before(h[p]!, e)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = e;
  }

  after(ms: number, fn: () => void): void {
    this.at(this.now + ms, fn);
  }

  signal(): Signal {
    return new Signal(this);
  }

  /** Starts a process now; `done` gets its result when it returns. */
  spawn<T>(proc: Proc<T>, done?: (value: T) => void): void {
    this.step(proc, done);
  }

  private step<T>(proc: Proc<T>, done?: (value: T) => void): void {
    const r = proc.next();
    if (r.done) {
      done?.(r.value);
      return;
    }
    const resume = () => this.step(proc, done);
    if (typeof r.value === 'number') this.at(this.now + r.value, resume);
    else r.value.park(resume);
  }

  /** Runs events until the queue is empty or the next one is after `until`. */
  run(until = Number.POSITIVE_INFINITY): void {
    const h = this.heap;
    while (h.length) {
      const top = h[0]!;
      if (top.t > until) break;
      const last = h.pop()!;
      if (h.length) {
        let i = 0;
        const n = h.length;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && before(h[r]!, h[l]!) ? r : l;
          if (before(last, h[c]!)) break;
          h[i] = h[c]!;
          i = c;
        }
        h[i] = last;
      }
      this.now = top.t;
      this.events++;
      top.fn();
    }
    if (until !== Number.POSITIVE_INFINITY && this.now < until) this.now = until;
  }
}

const before = (a: Event, b: Event) => a.t < b.t || (a.t === b.t && a.seq < b.seq);
