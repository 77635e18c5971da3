import type { Context } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

/**
 * What an EventBridge rate rule does for a scheduled function, locally: runs it every
 * `everyMs`, one run at a time (a run that overruns delays the next, as a Lambda that is still
 * busy would be invoked again only after), each run with its own Lambda context, logging a
 * failed run and going on.
 */
export function startSchedule(opts: {
  name: string;
  /** The function the rule invokes, named in the Lambda context of each run. */
  functionName: string;
  everyMs: number;
  run: (context: Context) => Promise<unknown>;
  log: (line: string) => void;
}): {
  done: Promise<void>;
  stop(): Promise<void>;
} {
  let running = true;
  let wake: () => void = () => {};
  const loop = async () => {
    while (running) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, opts.everyMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (!running) return;
      try {
        await opts.run(lambdaContext(opts.functionName));
      } catch (err) {
        opts.log(`${opts.name} failed: ${(err as Error).message}`);
      }
    }
  };
  const done = loop();
  return {
    done,
    async stop() {
      running = false;
      wake();
      await done;
    },
  };
}
