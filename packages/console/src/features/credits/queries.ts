/** The agency's credits (GET /v1/credits/…): its transaction history and the platform's packages. */
export const creditKeys = {
  transactions: ['transactions'] as const,
  /** One page of the history, for these filters (an object: its fields are the key's, in any order). */
  transactionPage: (filters: object, cursor: string) => [...creditKeys.transactions, filters, cursor] as const,
  packages: ['credit-packages'] as const,
};
