import type { LowBalanceEvent, TopUpNoticeEvent } from '../outbox';
import { escapeHtml, PLATFORM_NAME } from './html';

const credits = (n: number) => `${n.toLocaleString('en-US')} credit${n === 1 ? '' : 's'}`;
const money = (amount: number, currency: string) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(amount / 100);

const asMail = (subject: string, lines: string[]) => ({
  subject,
  text: lines.join('\n'),
  html: lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n'),
});

/** Auto top-up news, in plain words (ids and amounts only; the pay link is a Stripe Checkout page). */
export function topUpNoticeEmail(e: TopUpNoticeEvent) {
  const what = `${credits(e.credits)} for ${money(e.amount, e.currency)}`;
  const hello = `Hello ${e.agencyName},`;
  switch (e.notice) {
    case 'failed':
      return asMail('Auto top-up failed: your card was not charged', [
        hello,
        '',
        `${PLATFORM_NAME} tried to top up your agency pool with ${what}, but the payment failed: ${e.reason ?? 'the card was refused'}.`,
        `Failures in a row: ${e.failuresInARow} of 3 (after 3, auto top-up turns itself off).`,
        'Buy pool credits by hand, or save another card under Buy pool credits → Auto top-up.',
      ]);
    case 'requires_action':
      return asMail('Auto top-up: your bank asks you to confirm the payment', [
        hello,
        '',
        `${PLATFORM_NAME} tried to top up your agency pool with ${what}, but your bank asks you to confirm this payment yourself.`,
        `Complete the payment here: ${e.payUrl ?? '(no link)'}`,
        `Until then no credits were added. Failures in a row: ${e.failuresInARow} of 3.`,
      ]);
    case 'disabled':
      return asMail('Auto top-up turned off after 3 failed payments', [
        hello,
        '',
        `The last ${e.failuresInARow} auto top-ups of your agency pool failed (the last: ${e.reason ?? 'the card was refused'}), so ${PLATFORM_NAME} has turned auto top-up off.`,
        'Save a working card and turn auto top-up on again under Buy pool credits → Auto top-up.',
      ]);
    case 'daily_cap':
      return asMail("Auto top-up paused for today: the day's limit was reached", [
        hello,
        '',
        `Your agency pool has been topped up automatically ${e.cap ?? 0} times today (UTC), the most allowed in a day, and it is below your threshold again.`,
        'No further automatic top-up happens until tomorrow (UTC). You can buy pool credits by hand at any time.',
      ]);
  }
}

export function lowBalanceEmail(e: LowBalanceEvent) {
  const where = e.balance === 'pool' ? 'Your agency pool' : `The wallet of ${e.accountName} (${e.accountId})`;
  return asMail(`Low balance: ${e.balance === 'pool' ? 'agency pool' : e.accountName} below ${credits(e.level)}`, [
    `Hello ${e.agencyName},`,
    '',
    `${where} is down to ${credits(e.credits)}, below your alert level of ${credits(e.level)}.`,
    e.balance === 'pool'
      ? 'Buy pool credits, or turn on auto top-up, so that your clients are not refused.'
      : 'Grant it credits from your pool, or ask your client to buy some.',
    'You will not be told again until the balance has been back above the level (you change the levels under Buy pool credits → Low-balance alerts).',
  ]);
}
