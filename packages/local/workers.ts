import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { StreamWindowEvent } from '../queues/definitions';
import type { LambdaRuntime } from './lambda-pool';

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | undefined>;
type WindowHandler = (event: StreamWindowEvent) => Promise<DynamoDBBatchResponse & { state?: Record<string, unknown> }>;
type QueueHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface WorkerHandlers {
  forwarder: StreamHandler;
  detector: StreamHandler;
  notifier: QueueHandler;
  sender: QueueHandler;
  rollups: WindowHandler;
  sweeper: () => Promise<unknown>;
}

/**
 * The stream and queue workers' handlers as the pollers call them: through the local Lambda
 * runtime's containers when there is one, else the handler modules imported here, each run
 * under its deployed policy's table keys (packages/db/access.ts).
 */
export async function workerHandlers(runtime: LambdaRuntime | undefined): Promise<WorkerHandlers> {
  if (runtime) {
    return {
      forwarder: (event) => runtime.invoke('forwarder', event),
      detector: (event) => runtime.invoke('recharge-detector', event),
      notifier: (event) => runtime.invoke('notifier', event),
      sender: (event) => runtime.invoke('webhook-sender', event),
      rollups: (event) => runtime.invoke('usage-rollups', event),
      sweeper: () => runtime.invoke('lane-sweeper', {}),
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
  return {
    forwarder: (...args) => asFunction('forwarder', () => forwarder(...args)),
    detector: (...args) => asFunction('recharge-detector', () => detector(...args)),
    notifier: (...args) => asFunction('notifier', () => notifier(...args)),
    sender: (...args) => asFunction('webhook-sender', () => sender(...args)),
    rollups: (...args) => asFunction('usage-rollups', () => rollups(...args)),
    sweeper: () => asFunction('lane-sweeper', () => sweeper()),
  };
}
