/** Stripe's decline and error codes as an agency would want to read them (docs.stripe.com/declines/codes). */
const WORDS: Record<string, string> = {
  card_declined: 'your bank declined the card',
  generic_decline: 'your bank declined the card without giving a reason',
  insufficient_funds: 'the card has insufficient funds',
  lost_card: 'the card was reported lost',
  stolen_card: 'the card was reported stolen',
  expired_card: 'the card has expired',
  incorrect_cvc: 'the card’s security code was wrong',
  processing_error: 'the card could not be processed (try again later)',
  do_not_honor: 'your bank declined the card without giving a reason',
  authentication_required: 'your bank asks you to confirm this payment yourself',
  card_velocity_exceeded: 'the card has reached its spending limit',
};

export function refusalInWords(code: string | null | undefined, message?: string | null): string {
  return (code && WORDS[code]) || message || 'the payment was refused';
}
