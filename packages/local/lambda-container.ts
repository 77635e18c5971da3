/**
 * One Lambda "container" of one function, as a child process of the local runtime
 * (lambda-pool.ts): it imports the function's handler module with the stack's environment,
 * so the module, its SDK clients and its in-memory hints are this process's own, and serves
 * ONE invocation at a time, as Lambda does. Each invocation runs under the function's deployed
 * table keys (table-access.ts) and at the clock the test stack's `x-test-clock` asked for.
 *
 *   node --import tsx lambda-container.ts <function> [--extension=<module>] [--module=<handler module>]
 *
 * `--module` runs another handler module as <function> (its table keys): a test seam.
 */
import { type ClockSetting, withClock } from '#core/clock';
import { lambdaContext } from './lambda-context';
import {
  type ContainerExtension,
  type FromContainer,
  functionModule,
  type LocalFunction,
  type ToContainer,
} from './lambda-protocol';
import { asFunction, enforceTableAccess } from './table-access';

const send = (message: FromContainer) => process.send?.(message);
if (!process.send) throw new Error('lambda-container.ts runs as a child process of the local runtime (child_process.fork)');

const fn = process.argv[2] as LocalFunction;
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const extensionModule = flag('extension');
// The module graph reads its env on import, like a cold start (the runtime forked this process with it).
const extension: ContainerExtension = extensionModule ? (await import(extensionModule)).extension : {};
type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const { handler } = (await import(flag('module') ?? functionModule(fn))) as { handler: Handler };
enforceTableAccess();

const failure = (err: unknown) => {
  const e = err instanceof Error ? err : new Error(String(err));
  return { name: e.name, message: e.message, stack: e.stack };
};

async function invoke(event: unknown, clock: ClockSetting | undefined) {
  const run = () => asFunction(fn, () => handler(event, lambdaContext(fn)));
  return clock ? withClock(clock, run) : run();
}

let busy = false;
process.on('message', (m: ToContainer) => {
  const started = performance.now();
  if (m.type === 'call') {
    const call = extension.calls?.[m.name] as ((...args: unknown[]) => unknown) | undefined;
    void Promise.resolve()
      .then(() => {
        if (!call) throw new Error(`this container's extension has no call "${m.name}"`);
        return call(...m.args);
      })
      .then(
        (value) => send({ type: 'result', id: m.id, ok: true, value, ms: performance.now() - started }),
        (err) => send({ type: 'result', id: m.id, ok: false, error: failure(err), ms: performance.now() - started }),
      );
    return;
  }
  if (busy) {
    const error = failure(new Error(`${fn}: a container serves one invocation at a time`));
    return void send({ type: 'result', id: m.id, ok: false, error, ms: 0 });
  }
  busy = true;
  const end = extension.measure?.();
  void invoke(m.event, m.clock)
    .then(
      (value) => ({ ok: true, value }),
      (err) => ({ ok: false, error: failure(err) }),
    )
    .then((outcome) => {
      busy = false;
      send({ type: 'result', id: m.id, ...outcome, ms: performance.now() - started, figures: end?.() });
    });
});
// Ends with the runtime: when it disconnects (its stop, or its death). A Ctrl-C reaches the
// whole process group; the runtime stops its containers itself, after the requests in flight.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined);
send({ type: 'ready' });
