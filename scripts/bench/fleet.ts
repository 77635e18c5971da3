import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { FunctionPool, InvocationError } from '#local/lambda-pool';
import { addCounts, type DynamoCounts, zeroCounts } from './dynamo-meter';

export interface Invocation {
  status: number;
  code?: string;
  /** Time inside the container (the handler's duration), without any wait for a free container. */
  ms: number;
  /** TransactWriteItems attempts this request made. */
  attempts: number;
}

const extension = fileURLToPath(new URL('./container.ts', import.meta.url));

/**
 * K container processes of the usage function, as the local Lambda runtime runs them
 * (packages/local/lambda-pool.ts: a request goes to an idle container, never to a busy one),
 * each with the bench's extension (container.ts): a DynamoDB meter and hint priming. All K are
 * started up front; `use(k)` keeps requests on the first k, so one fleet serves every K.
 */
export class Fleet {
  private constructor(private readonly pool: FunctionPool) {}

  static async start(size: number, env: NodeJS.ProcessEnv): Promise<Fleet> {
    const pool = new FunctionPool('usage', { maxContainers: size, extension, env });
    await pool.prewarm(size);
    return new Fleet(pool);
  }

  get size(): number {
    return this.pool.size;
  }

  /** From now on requests go to containers 0…k−1 only. Call between levels, with nothing in flight. */
  use(k: number): void {
    this.pool.limit(k);
  }

  /** One request, to an idle container among the active ones (waiting for one if all are busy). */
  async invoke(event: APIGatewayProxyEventV2): Promise<Invocation> {
    return answer(() => this.pool.invoke<APIGatewayProxyStructuredResultV2>(event));
  }

  /** One request to container `i`; the caller keeps it to one at a time per container (warm-up). */
  invokeOn(i: number, event: APIGatewayProxyEventV2): Promise<Invocation> {
    return answer(() => this.pool.invokeOn<APIGatewayProxyStructuredResultV2>(i, event));
  }

  /** Container `i` reads its hints for these accounts (see container.ts `prime`). */
  async prime(i: number, accountIds: string[]): Promise<void> {
    await this.pool.call(i, 'prime', accountIds);
  }

  async configure(conflictRate: number): Promise<void> {
    await this.pool.callAll('configure', conflictRate);
  }

  /** Every container's counts since the last take, summed; each container starts again at zero. */
  async takeCounts(): Promise<DynamoCounts> {
    return (await this.pool.callAll<DynamoCounts>('takeCounts')).reduce(addCounts, zeroCounts());
  }

  stop(): Promise<void> {
    return this.pool.stop();
  }
}

/** A handler's answer as status and problem code; a handler that threw (or a container that died) as 599. */
async function answer(invoke: () => ReturnType<FunctionPool['invoke']>): Promise<Invocation> {
  try {
    const { value, ms, figures } = await invoke();
    const result = value as APIGatewayProxyStructuredResultV2;
    const status = result.statusCode ?? 200;
    const code = result.body && status >= 400 ? (JSON.parse(result.body) as { code?: string }).code : undefined;
    return { status, code, ms, attempts: figures?.attempts ?? 0 };
  } catch (err) {
    if (!(err instanceof InvocationError)) throw err;
    return { status: 599, code: err.message, ms: err.ms, attempts: 0 };
  }
}
