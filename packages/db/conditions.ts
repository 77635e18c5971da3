/** A single-item write's condition did not hold: DynamoDB's answer, which callers turn into a result. */
export const conditionFailed = (err: unknown): boolean => (err as Error | undefined)?.name === 'ConditionalCheckFailedException';

/**
 * Runs one conditional single-item write: its output, or undefined when its condition did not
 * hold. Any other failure is thrown.
 */
export async function ifConditionHolds<T>(write: Promise<T>): Promise<T | undefined> {
  try {
    return await write;
  } catch (err) {
    if (conditionFailed(err)) return undefined;
    throw err;
  }
}
