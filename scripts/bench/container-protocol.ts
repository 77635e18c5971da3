import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { DynamoCounts } from './dynamo-meter';

/** From the load generator (the "API Gateway") to one container process. */
export type ToContainer =
  | { type: 'invoke'; id: number; event: APIGatewayProxyEventV2 }
  | { type: 'configure'; conflictRate: number }
  | { type: 'prime'; id: number; accountIds: string[] }
  | { type: 'take-counts'; id: number };

/** From a container back to the load generator. */
export type FromContainer =
  | { type: 'ready' }
  | { type: 'result'; id: number; status: number; code?: string; ms: number; attempts: number }
  | { type: 'counts'; id: number; counts: DynamoCounts }
  | { type: 'primed'; id: number };
