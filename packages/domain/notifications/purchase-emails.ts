import type { PurchaseNoticeEvent } from '../outbox';
import { escapeHtml } from './html';

const credits = (n: number) => `${n.toLocaleString('en-US')} credit${n === 1 ? '' : 's'}`;
const money = (amount: number, currency: string) => `${amount.toLocaleString('en-US')} ${currency.toUpperCase()} minor units`;

/** What happened to a purchase, in plain words, for the agency (nothing secret: ids and amounts only). */
export function purchaseNoticeEmail(e: PurchaseNoticeEvent) {
  const buyer = e.balance === 'pool' ? 'your agency pool' : `${e.accountName} (${e.accountId})`;
  const where = e.balance === 'pool' ? 'your pool' : `the wallet of ${e.accountName}`;
  const [subject, ...body]: [string, ...string[]] = (() => {
    switch (e.notice) {
      case 'landed_in_manual_mode':
        return [
          `Credits bought by ${e.accountName} are waiting in its wallet`,
          `${e.accountName} (${e.accountId}) paid for ${credits(e.credits)} (purchase ${e.purchaseId}) after you switched it to manual mode.`,
          'The credits are in its wallet, which manual mode does not use: switch the sub-account back to reselling mode to let it spend them, or refund the payment in your Stripe dashboard.',
        ];
      case 'refunded_account_closed':
        return [
          `A payment for closed sub-account ${e.accountName} was refunded`,
          `${e.accountName} (${e.accountId}) paid ${money(e.amount, e.currency)} for ${credits(e.credits)} (purchase ${e.purchaseId}) after the sub-account was closed.`,
          'Credits on a closed sub-account can never be spent, so the payment has been refunded in full; no credits were added.',
        ];
      case 'dispute_opened':
        return [
          `A payment was disputed: credits taken back from ${buyer}`,
          `The payment for purchase ${e.purchaseId} (${money(e.amount, e.currency)} disputed) is the subject of a chargeback.`,
          `${credits(e.credits)} were taken back from ${where}${e.shortfall > 0 ? `; ${credits(e.shortfall)} had already been spent and could not be` : ''}.`,
          'If the dispute is decided in your favour, the credits return.',
        ];
      case 'dispute_won':
        return [
          `Dispute won: credits returned to ${buyer}`,
          `The dispute over purchase ${e.purchaseId} was decided in your favour; ${credits(e.credits)} returned to ${where}.`,
        ];
      case 'dispute_lost':
        return [
          `Dispute lost: purchase ${e.purchaseId}`,
          `The dispute over purchase ${e.purchaseId} was lost; the credits taken back when it opened stay taken.`,
        ];
    }
  })();
  const lines = [`Hello ${e.agencyName},`, '', ...body];
  const html = lines.map((l) => (l ? `<p>${escapeHtml(l)}</p>` : '')).join('\n');
  return { subject, text: lines.join('\n'), html };
}
