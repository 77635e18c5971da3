/** A single-item write's condition did not hold: DynamoDB's answer, which callers turn into a result. */
export const conditionFailed = (err: unknown): boolean => (err as Error | undefined)?.name === 'ConditionalCheckFailedException';
