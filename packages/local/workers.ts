import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { TableUser } from '#http/functions';
import type { StreamWindowEvent } from '#queues/definitions';
import { asInvocation } from './invocations';
import type { LambdaRuntime } from './lambda-pool';

type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | undefined>;
type WindowHandler = (
  event: StreamWindowEvent,
  context: Context,
) => Promise<DynamoDBBatchResponse & { state?: Record<string, unknown> }>;
type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
type ScheduledHandler = (event: object, context: Context) => Promise<unknown>;

export interface WorkerHandlers {
  forwarder: StreamHandler;
  detector: StreamHandler;
  notifier: QueueHandler;
  sender: QueueHandler;
  rollups: WindowHandler;
  sweeper: ScheduledHandler;
}

/**
 * The stream and queue workers' handlers as the pollers call them: through the local Lambda
 * runtime's containers when there is one, else the handler modules imported here, each run
 * as its own invocation (invocations.ts) under its deployed policy's table keys (packages/db/access.ts).
 */
export async function workerHandlers(runtime: LambdaRuntime | undefined): Promise<WorkerHandlers> {
  if (runtime) {
    return {
      forwarder: (event) => runtime.invoke('forwarder', event),
      detector: (event) => runtime.invoke('recharge-detector', event),
      notifier: (event) => runtime.invoke('notifier', event),
      sender: (event) => runtime.invoke('webhook-sender', event),
      rollups: (event) => runtime.invoke('usage-rollups', event),
      sweeper: (event) => runtime.invoke('lane-sweeper', event),
    };
  }
  // Imported only now: like a Lambda cold start, these modules read their env on import.
  const { handler: forwarder } = await import('../../functions/stream/forwarder');
  const { handler: notifier } = await import('../../functions/queue/notifier');
  const { handler: detector } = await import('../../functions/stream/recharge-detector');
  const { handler: sender } = await import('../../functions/queue/webhook-sender');
  const { handler: rollups } = await import('../../functions/stream/usage-rollups');
  const { handler: sweeper } = await import('../../functions/scheduled/lane-sweeper');
  const { asFunction, enforceTableAccess } = await import('./table-access');
  enforceTableAccess();
  const invoke =
    <E, R>(fn: TableUser, handler: (event: E, context: Context) => Promise<R>) =>
    (event: E, context: Context) =>
      asInvocation(context, () => asFunction(fn, () => handler(event, context)));
  return {
    forwarder: invoke('forwarder', forwarder),
    detector: invoke('recharge-detector', detector),
    notifier: invoke('notifier', notifier),
    sender: invoke('webhook-sender', sender),
    rollups: invoke('usage-rollups', rollups),
    sweeper: invoke('lane-sweeper', sweeper),
  };
}
