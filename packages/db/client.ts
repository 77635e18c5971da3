import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { awsClientDefaults } from '#core/aws-clients';
import { requireEnv } from '#core/env';
import { traced } from '#core/tracing';
import { retryingConflicts } from './conflict-retry';

/** One client per container; the endpoint comes from AWS_ENDPOINT_URL_DYNAMODB when local. */
export const dynamo = retryingConflicts(traced(new DynamoDBClient(awsClientDefaults)));
export const db = DynamoDBDocumentClient.from(dynamo, {
  marshallOptions: { removeUndefinedValues: true },
});

let tableName: string | undefined;
/** The table name, read once; throws at first use when TABLE_NAME is missing. */
export function table(): string {
  tableName ??= requireEnv('TABLE_NAME');
  return tableName;
}
