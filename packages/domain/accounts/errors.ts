import { AppError } from '#core/errors';

/** A closed sub-account: readable (its history stays) but nothing is written to it or charged. */
export const accountClosed = (accountId?: string) =>
  new AppError('account_closed', accountId ? `The account ${accountId} is closed` : 'The sub-account is closed');
