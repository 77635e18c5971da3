import { EventEmitter } from 'node:events';

/** One running copy of an engine. */
export interface Instance {
  /** `listener` runs once if the engine dies without being asked to (a process exit, a server closing). */
  onDeath(listener: (reason: string) => void): void;
  /** A stop that was asked for: no death is reported. */
  stop(): Promise<void>;
  /** Dies the way a crash would (SIGKILL, a server closed under its clients), for fault tests; resolves once it is gone. */
  kill(): Promise<void>;
  pid?: number;
}

export interface Service {
  name: string;
  /** Starts a copy on the same port and data as the last one: handlers have already read the endpoints. */
  start(): Promise<Instance>;
  /** Rejects when the running engine does not answer (within `signal`); repeated failures count as a death. */
  health?(signal: AbortSignal): Promise<void>;
  /** What a restart loses, said on the restart line (e.g. "in memory: the table is re-created empty"). */
  restartLoses?: string;
}

export interface RestartPolicy {
  /** More deaths than this within `windowMs` and the supervisor stops everything and reports fatal. */
  maxRestarts: number;
  windowMs: number;
  /** Wait after a failed restart attempt, doubled each time. */
  backoffMs: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  /** Consecutive failed health checks that count as a death (the engine is killed and restarted). */
  healthFailures: number;
}

export const defaultRestartPolicy: RestartPolicy = {
  maxRestarts: 5,
  windowMs: 60_000,
  backoffMs: 500,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 10_000,
  healthFailures: 3,
};

export interface KillOptions {
  holdDown?: Promise<unknown>;
}

export interface RestartEvent {
  service: string;
  reason: string;
  /** Deaths of this service within the policy window, this one included. */
  count: number;
}
export interface BackEvent {
  service: string;
  ms: number;
}
export type SupervisorEvents = { restart: [RestartEvent]; back: [BackEvent]; fatal: [Error] };

export interface Supervisor {
  events: EventEmitter<SupervisorEvents>;
  /** Every restart so far, oldest first. */
  restarts: RestartEvent[];
  /** Settles (never rejects) once a service kept dying and everything was stopped. */
  fatal: Promise<Error>;
  /** Starts a service and watches it from then on; a failing first start throws (nothing to restore). */
  add(service: Service): Promise<void>;
  /** Kills a service as a crash would; with `holdDown`, its restart waits for that promise (fault tests keep an engine down). */
  kill(name: string, opts?: KillOptions): Promise<void>;
  pid(name: string): number | undefined;
  /** Stops every service, last added first; pending restarts are waited for, then stopped. */
  stop(): Promise<void>;
}

interface Entry {
  service: Service;
  instance?: Instance;
  deaths: number[];
  recovering?: Promise<void>;
  /** Set by kill(): the next restart starts only once it settles (or the supervisor stops). */
  holdDown?: Promise<unknown>;
  healthFails: number;
  probing: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Restarts what dies, one log line per restart and one when it is back; gives up (stops
 * everything, `fatal`) on a service that dies more than `maxRestarts` times in `windowMs`.
 */
export function createSupervisor(opts: { log: (line: string) => void; policy?: Partial<RestartPolicy> }): Supervisor {
  const policy = { ...defaultRestartPolicy, ...opts.policy };
  const events = new EventEmitter<SupervisorEvents>();
  const fatal = new Promise<Error>((resolve) => events.once('fatal', resolve));
  const restarts: RestartEvent[] = [];
  const entries: Entry[] = [];
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let askStop = () => {};
  const stopAsked = new Promise<void>((resolve) => {
    askStop = resolve;
  });
  const healthTimer = setInterval(() => {
    for (const entry of entries) void probe(entry);
  }, policy.healthIntervalMs).unref();

  const entry = (name: string) => {
    const found = entries.find((e) => e.service.name === name);
    if (!found) throw new Error(`no service named ${name}`);
    return found;
  };

  function watch(e: Entry, instance: Instance) {
    e.instance = instance;
    e.healthFails = 0;
    instance.onDeath((reason) => {
      if (stopping || e.instance !== instance) return;
      e.instance = undefined;
      recover(e, reason);
    });
  }

  function recover(e: Entry, reason: string) {
    const recovering: Promise<void> = restart(e, reason).finally(() => {
      if (e.recovering === recovering) e.recovering = undefined;
    });
    e.recovering = recovering;
  }

  async function restart(e: Entry, firstReason: string) {
    const { name, restartLoses } = e.service;
    const began = performance.now();
    const window = `${policy.windowMs / 1000}s`;
    let reason = firstReason;
    for (let attempt = 0; !stopping; attempt++) {
      const now = Date.now();
      e.deaths = e.deaths.filter((t) => now - t < policy.windowMs);
      e.deaths.push(now);
      const count = e.deaths.length;
      if (count > policy.maxRestarts) {
        void giveUp(
          `${name} keeps dying: ${count} times within ${window} (last: ${reason}). Stopped the local stack; see the lines above for why.`,
        );
        return;
      }
      const event = { service: name, reason, count };
      restarts.push(event);
      events.emit('restart', event);
      opts.log(
        `${name} ${reason}; restarting (${count}/${policy.maxRestarts} in ${window})…${restartLoses ? ` ${restartLoses}` : ''}`,
      );
      if (attempt > 0) await sleep(policy.backoffMs * 2 ** (attempt - 1));
      const hold = e.holdDown;
      e.holdDown = undefined;
      if (hold) await Promise.race([hold.catch(() => undefined), stopAsked]);
      if (stopping) return;
      try {
        watch(e, await e.service.start());
      } catch (err) {
        reason = `failed to restart (${message(err)})`;
        continue;
      }
      if (stopping) return; // stop() stops what just started
      const ms = performance.now() - began;
      opts.log(`${name} is back after ${(ms / 1000).toFixed(1)}s`);
      events.emit('back', { service: name, ms });
      return;
    }
  }

  async function probe(e: Entry) {
    const instance = e.instance;
    if (!instance || !e.service.health || e.probing || stopping) return;
    e.probing = true;
    try {
      await e.service.health(AbortSignal.timeout(policy.healthTimeoutMs));
      e.healthFails = 0;
    } catch (err) {
      if (e.instance !== instance || ++e.healthFails < policy.healthFailures) return;
      // Alive but not answering (hung, stopped): its death is ours to report, not its exit's.
      e.instance = undefined;
      await instance.kill().catch(() => undefined);
      if (!stopping) recover(e, `stopped answering (${e.healthFails} health checks failed: ${message(err)})`);
    } finally {
      e.probing = false;
    }
  }

  async function giveUp(reason: string) {
    await stop();
    events.emit('fatal', new Error(reason));
  }

  function stop(): Promise<void> {
    stopping = true;
    askStop();
    clearInterval(healthTimer);
    stopped ??= (async () => {
      await Promise.all(entries.map((e) => e.recovering));
      for (const e of [...entries].reverse()) {
        const instance = e.instance;
        e.instance = undefined;
        await instance?.stop().catch(() => undefined);
      }
    })();
    return stopped;
  }

  return {
    events,
    restarts,
    fatal,
    async add(service) {
      if (stopping) throw new Error('the supervisor is stopping');
      const e: Entry = { service, deaths: [], healthFails: 0, probing: false };
      const instance = await service.start();
      entries.push(e);
      watch(e, instance);
    },
    async kill(name, opts) {
      const e = entry(name);
      const instance = e.instance;
      if (!instance) throw new Error(`${name} is not running`);
      e.holdDown = opts?.holdDown;
      await instance.kill();
    },
    pid: (name) => entry(name).instance?.pid,
    stop,
  };
}
