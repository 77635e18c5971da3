import type Stripe from 'stripe';
import { now as clockNow, utcDate } from '#core/clock';
import { newId } from '#core/ids';
import { logger } from '#core/logger';
import { getPurchase, type PurchaseItem, type SettledState, settle } from '#db/items/purchase';
import { itemKinds } from '#db/schema';
import { attempt, type NamedItem, throwing } from '#db/transact';
import { balanceHint, forgetBalance } from '../ledger/balance-state';
import { commit, type Plan, type Stop } from '../ledger/commit';
import { requestHash } from '../ledger/entries';
import { closeLanes } from '../ledger/lane-close';
import { COLLECTED_MS } from '../ledger/lanes';
import type { PurchaseNoticeEvent } from '../outbox';
import { balanceOf, countersOf, creditsFor, paymentOf } from './purchase-ledger';
import { purchaseNotice } from './purchase-notices';
import { AccountGone, requestOptions, stripeCall } from './stripe-client';

/**
 * Refunds and disputes of a paid purchase, settled against what Stripe says NOW. An event about
 * them (charge.refunded, charge.refund.updated, charge.dispute.*) only says "look again": the
 * purchase's payment's refunds and disputes are read from Stripe (its own objects, for the
 * PaymentIntent of the session the platform made), the credits they stand for are computed,
 * and the difference from what was settled before is applied, as ledger entries, in steps
 * conditioned on the purchase's settlement version. So every event, in any order, any number
 * of times, converges on Stripe's state, and nothing is ever applied twice:
 * - a refund (pending or succeeded) takes back its share of the credits; one that fails or is
 *   canceled gives them back;
 * - a dispute takes back what remains of the payment's credits while it is open, and when lost;
 *   a dispute won (or an inquiry closed) gives them back;
 * - credits are taken only as far as the balance holds them (never below zero): the rest is the
 *   purchase's shortfall, and a return pays the shortfall down first (nothing taken, nothing given).
 * The agency is emailed when a dispute opens and when it is decided.
 */
const MAX_ROUNDS = 5;

type Component = 'refund' | 'dispute';
type Extra = 'purchase' | 'outbox' | 'totals' | 'day';

/** Refunds that hold money back from the payment: not failed, not canceled. */
const refundHolds = (r: Pick<Stripe.Refund, 'status'>) => r.status !== 'failed' && r.status !== 'canceled';
/** Disputes that hold the payment's credits: open ones and lost ones (won ones and closed inquiries give them back). */
const disputeHolds = (d: Pick<Stripe.Dispute, 'status'>) =>
  d.status !== 'won' && d.status !== 'warning_closed' && (d.status as string) !== 'prevented';

/** What Stripe's refunds and disputes say the purchase should have settled. */
export function settlementTarget(
  p: Pick<PurchaseItem, 'credits' | 'amount'>,
  refunds: Array<Pick<Stripe.Refund, 'amount' | 'status'>>,
  disputes: Array<Pick<Stripe.Dispute, 'amount' | 'status' | 'created'>>,
): SettledState {
  const refunded = Math.min(
    p.amount,
    refunds.filter(refundHolds).reduce((n, r) => n + r.amount, 0),
  );
  const disputed = Math.min(
    p.amount - refunded,
    disputes.filter(disputeHolds).reduce((n, d) => n + d.amount, 0),
  );
  const creditsRefunded = creditsFor(p, refunded);
  const latest = [...disputes].sort((a, b) => a.created - b.created).at(-1);
  return {
    status: disputed > 0 ? 'disputed' : refunded > 0 ? 'refunded' : 'paid',
    amountRefunded: refunded,
    creditsRefunded,
    refundShortfall: 0,
    amountDisputed: disputed,
    creditsDisputed: creditsFor(p, refunded + disputed) - creditsRefunded,
    disputeShortfall: 0,
    disputeStatus: latest?.status ?? null,
  };
}

export const settledOf = (p: PurchaseItem): SettledState => ({
  status: p.status === 'refunded' || p.status === 'disputed' ? p.status : 'paid',
  amountRefunded: p.amountRefunded ?? 0,
  creditsRefunded: p.creditsRefunded ?? 0,
  refundShortfall: p.refundShortfall ?? 0,
  amountDisputed: p.amountDisputed ?? 0,
  creditsDisputed: p.creditsDisputed ?? 0,
  disputeShortfall: p.disputeShortfall ?? 0,
  disputeStatus: p.disputeStatus ?? null,
});

type Settleable = PurchaseItem & { paymentIntentId: string };
const settleable = (p: PurchaseItem | undefined): p is Settleable =>
  Boolean(
    p?.paymentIntentId && !p.closedAccountRefund && (p.status === 'paid' || p.status === 'refunded' || p.status === 'disputed'),
  );

/** Settles the purchase's refunds and disputes with Stripe's; `unchanged` when nothing differed. */
export async function settlePayment(purchaseId: string): Promise<'settled' | 'unchanged'> {
  let changed = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // The purchase first, Stripe second: what a step applies is never older than what the step it follows applied.
    const p = await getPurchase(purchaseId);
    if (!settleable(p)) return changed ? 'settled' : 'unchanged';
    const stripeSays = await readStripe(p);
    if (!stripeSays) return changed ? 'settled' : 'unchanged';
    const target = settlementTarget(p, stripeSays.refunds, stripeSays.disputes);
    const chargeId = chargeOf([...stripeSays.refunds, ...stripeSays.disputes]);
    let current: Settleable = p;
    let moved = false;
    for (const component of ['refund', 'dispute'] as const) {
      const next = await step(current, component, target, chargeId);
      if (next === 'moved') {
        moved = true;
        break;
      }
      if (next) {
        current = next;
        changed = true;
      }
    }
    if (!moved) return changed ? 'settled' : 'unchanged';
  }
  throw new Error(`purchase ${purchaseId}: its settlement kept moving`);
}

/** The charge the refunds and disputes are of (a PaymentIntent's succeeded charge: one). */
function chargeOf(objects: Array<{ charge: string | { id: string } | null }>): string | undefined {
  const charge = objects.find((o) => o.charge)?.charge;
  return typeof charge === 'string' ? charge : charge?.id;
}

async function readStripe(p: PurchaseItem & { paymentIntentId: string }) {
  try {
    return await stripeCall('read refunds and disputes', async (s) => {
      const options = requestOptions({ stripeAccount: p.stripeAccountId });
      const [refunds, disputes] = await Promise.all([
        s.listRefunds(p.paymentIntentId, options),
        s.listDisputes(p.paymentIntentId, options),
      ]);
      return { refunds, disputes };
    });
  } catch (err) {
    // Deauthorized: Stripe sends nothing more of that account either, and there is nothing to read.
    if (!(err instanceof AccountGone)) throw err;
    logger.warn('refunds and disputes of a purchase cannot be read: the account is gone', { purchaseId: p.id });
    return undefined;
  }
}

/**
 * One component's step towards the target: the credits it owes move by the difference, taken
 * from the balance as far as it holds them (else the shortfall grows), returned from the
 * shortfall first. The purchase's state moves with it, conditioned on the version it was read at.
 * Returns the purchase as it now is, undefined when this component had nothing to change, or
 * `moved` when another settlement step committed first (start over from the purchase as it is now).
 */
async function step(
  p: Settleable,
  component: Component,
  target: SettledState,
  chargeId: string | undefined,
): Promise<Settleable | 'moved' | undefined> {
  const before = settledOf(p);
  const owedKey = component === 'refund' ? 'creditsRefunded' : 'creditsDisputed';
  const shortKey = component === 'refund' ? 'refundShortfall' : 'disputeShortfall';
  const amountKey = component === 'refund' ? 'amountRefunded' : 'amountDisputed';
  const last = component === 'dispute';
  const unchanged =
    before[owedKey] === target[owedKey] &&
    before[amountKey] === target[amountKey] &&
    (!last || (before.status === target.status && before.disputeStatus === target.disputeStatus));
  if (unchanged) return undefined;

  const owedNow = before[owedKey];
  const owedNext = target[owedKey];
  const moneyMoved = target[amountKey] - before[amountKey];
  const plan = async (balance: number) => {
    let shortfall = before[shortKey];
    let credits = 0; // the balance's change
    if (owedNext > owedNow) {
      const taken = Math.min(owedNext - owedNow, balance);
      shortfall += owedNext - owedNow - taken;
      credits = -taken;
    } else if (owedNext < owedNow) {
      const paidDown = Math.min(shortfall, owedNow - owedNext);
      shortfall -= paidDown;
      credits = owedNow - owedNext - paidDown;
    }
    // Each step writes its own component; the status follows the whole target once the last one is done.
    const next: SettledState = {
      ...before,
      [owedKey]: owedNext,
      [shortKey]: shortfall,
      [amountKey]: target[amountKey],
      ...(last ? { status: target.status, disputeStatus: target.disputeStatus } : { status: interimStatus(before, target) }),
    };
    return { next, credits, shortfall };
  };
  const notice = last ? disputeNotice(before, target) : undefined;

  const now = clockNow();
  const at = now.toISOString();
  const extrasFor = async (next: SettledState, credits: number, shortfall: number): Promise<NamedItem<Extra>[]> => [
    { name: 'purchase', write: settle(p, next, at) },
    ...(notice
      ? await purchaseNotice(
          p,
          notice,
          { credits: Math.abs(credits), shortfall: notice === 'dispute_opened' ? shortfall : 0, amount: target.amountDisputed },
          now,
        )
      : []),
    ...countersOf(p, 'refund', -credits, -moneyMoved, utcDate(now)),
  ];

  // Credits set aside in lanes (a busy balance) are the balance's too: bring them back before
  // taking less than is owed (and recording a shortfall the balance did not have).
  const head = await balanceHint(balanceOf(p));
  if (owedNext - owedNow > head.balance && head.lanesOpen > 0) {
    await closeLanes(balanceOf(p), { noLanesUntil: Date.now() + COLLECTED_MS });
    forgetBalance(balanceOf(p));
  }
  const { balance } = await balanceHint(balanceOf(p));
  const first = await plan(balance);
  if (first.credits === 0) {
    // No credits move (all of it shortfall, or paid down from it): the purchase's state alone.
    const result = await attempt<Extra>(await extrasFor(first.next, 0, first.shortfall));
    if (result.kind === 'stale' && result.failed.purchase) return 'moved';
    if (result.kind !== 'committed') throwing(result);
    return { ...p, ...first.next, settleVersion: (p.settleVersion ?? 0) + 1 };
  }

  const makePlan = async (): Promise<Plan<Extra, SettledState> | Stop<'moved'>> => {
    const { balance: latest } = await balanceHint(balanceOf(p));
    const { next, credits, shortfall } = await plan(latest);
    if (credits === 0) return { stop: 'moved' }; // the balance emptied meanwhile: redo this step as a state-only one
    return {
      balanceKey: balanceOf(p),
      delta: credits,
      // Credits taken back count as `refunded` on the balance; credits given back take that count down.
      total: 'refunded',
      entry: {
        kind: itemKinds.ledgerEntry,
        id: newId('transaction', clockNow().getTime()),
        agencyId: p.agencyId,
        createdAt: at,
        type: component,
        credits,
        balanceKind: p.balance,
        accountId: p.accountId,
        subAccountId: p.balance === 'wallet' ? p.accountId : null,
        reference: referenceOf(component, credits, target),
        actor: { type: 'platform' },
        // One step per settlement version: a concurrent step from the same version (other news,
        // another balance reading) meets this key and is told to start over.
        idempotencyKey: `settle:${p.id}:${(p.settleVersion ?? 0) + 1}`,
        requestHash: requestHash('settle', p.accountId, { purchaseId: p.id, version: (p.settleVersion ?? 0) + 1 }),
        payment: paymentOf(p, Math.abs(moneyMoved), { chargeId }),
      },
      extras: await extrasFor(next, credits, shortfall),
      memo: next,
    };
  };
  const result = await commit(makePlan, {
    oneAtATime: [balanceOf(p)],
    // The purchase moved: start over. A stale balance: its hint was refreshed from the returned item; take what it holds now.
    onFailed: { purchase: 'return', balance: 'retry' },
  });
  // Replayed: a concurrent step from the same version committed first.
  if (result.kind !== 'committed') return 'moved';
  return { ...p, ...result.memo, settleVersion: (p.settleVersion ?? 0) + 1 };
}

/** While the refund step is applied before the dispute's, the status says what is settled so far. */
function interimStatus(before: SettledState, target: SettledState): SettledState['status'] {
  if (before.creditsDisputed > 0 || before.amountDisputed > 0) return 'disputed';
  return target.amountRefunded > 0 ? 'refunded' : 'paid';
}

function referenceOf(component: Component, credits: number, target: SettledState): string {
  if (component === 'refund') return credits < 0 ? 'refund' : 'refund failed or canceled: credits returned';
  if (credits < 0) return `dispute (${target.disputeStatus ?? 'open'})`;
  return `dispute ${target.disputeStatus === 'won' ? 'won' : 'closed'}: credits returned`;
}

/** The email a dispute step sends: when one opens, and when it is decided. */
function disputeNotice(before: SettledState, target: SettledState): PurchaseNoticeEvent['notice'] | undefined {
  if (before.amountDisputed === 0 && target.amountDisputed > 0) return 'dispute_opened';
  if (before.disputeStatus === target.disputeStatus) return undefined;
  if (target.disputeStatus === 'won' && before.amountDisputed > 0) return 'dispute_won';
  if (target.disputeStatus === 'lost') return 'dispute_lost';
  return undefined;
}
