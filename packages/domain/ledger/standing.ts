import { type SubAccountItem, standingOf } from '#db/items/account';
import { poolKey, walletKey } from '#db/items/balance';
import { closeLanes } from './lane-close';
import { fenceAndClose } from './lanes';

/**
 * A sub-account's standing decides what its debits draw on: its wallet (reselling), the pool
 * within its monthly limit, or the pool. Debits made under a standing that has since changed
 * (closed, switched, its limit set, changed or removed) must stop, and the lanes that standing
 * allowed give their credits (and allowance) back: called right after the change is written.
 */
export async function closeWhatItAllowed(before: SubAccountItem, after: SubAccountItem): Promise<void> {
  if (before.type !== 'sub_account' || before.status !== 'active') return;
  const was = standingOf(before);
  const is = standingOf(after);
  const unchanged =
    after.status === 'active' &&
    was.creditMode === is.creditMode &&
    was.hasLimit === is.hasLimit &&
    before.monthlyCreditLimit === after.monthlyCreditLimit;
  if (unchanged) return;
  if (was.creditMode === 'reselling') {
    await fenceAndClose(walletKey(before.id));
  } else if (was.hasLimit) {
    // Its lanes are its own: closing them is enough (their refills check the account itself).
    await closeLanes(poolKey(before.agencyId), { scopes: (scope) => scope === `L${before.id}` });
  } else {
    // The pool's lanes serve every unlimited sub-account of the agency and check none of them:
    // all close, and every container reads its sub-accounts again under the new fence.
    await fenceAndClose(poolKey(before.agencyId), (scope) => scope === 'P');
  }
}

/**
 * A change asked for that the account shows already (what a retry sees when its first attempt
 * wrote the change and then failed, before `closeWhatItAllowed` ran, or a change to what it
 * already was): what it changed from is unknown, so whatever any other standing would have
 * allowed closes. A change to what it already was pays the same, which is rare.
 */
export async function closeWhatOthersAllowed(account: SubAccountItem): Promise<void> {
  if (account.type !== 'sub_account' || account.status !== 'active') return;
  const is = standingOf(account);
  if (is.creditMode !== 'reselling') await fenceAndClose(walletKey(account.id));
  // Another limit, or one it no longer has: its allowances come back.
  await closeLanes(poolKey(account.agencyId), { scopes: (scope) => scope === `L${account.id}` });
  if (is.creditMode === 'reselling' || is.hasLimit) await fenceAndClose(poolKey(account.agencyId), (scope) => scope === 'P');
}
