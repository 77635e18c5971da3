/**
 * What this container's ledger did, counted: tests read it to prove a race really happened
 * (a stale version was retried), and the metrics middleware publishes it per request.
 */
export const ledgerStats = {
  staleRetries: 0,
  /** Of those, retries because a balance's version had moved: another container committed first. */
  staleVersions: 0,
  /**
   * Failed writes that found the balance at another version than this container expected,
   * whatever came of it (a retry, or a refusal when what is left is too little).
   */
  movedVersions: 0,
  refusals: 0,
};
