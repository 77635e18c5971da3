import { AppError } from '#core/errors';
import { count } from '#core/metrics';
import { accountKey, accountShape } from '#db/items/account';
import { moveBalance } from '#db/items/balance';
import { idempotencyKey, type LedgerEntryItem } from '#db/items/ledger-entry';
import { chargeMeter, keepsMeter, type MeterItem, meterCopiedFrom, meterKey, meterShape } from '#db/items/meter';
import { foundItem, getItems, itemId } from '#db/read';
import type { Key } from '#db/schema';
import { attempt, type NamedItem, type TransactResult, throwing, unhandled } from '#db/transact';
import { type AccountHint, forgetAccountsOf, noteMeterMonth, rememberAccount, rememberMeter } from './account-hints';
import { type BalanceState, balanceHint, balanceKnown, oneAtATime, rememberBalance } from './balance-state';
import { replayOf } from './commit';
import { type DebitRequest, entryOf, entryWrite, ownLaneDebit, type Scope, scopeOf } from './debit-attempt';
import { HOT_MS, noteUse, type ScopeState, scopeState } from './lanes';

/**
 * A batch's debits, many to a transaction: per balance, the balance item (or this container's
 * lane of it) moves once by their sum, and every entry is written in that same
 * TransactWriteItems under its own idempotency key. A debit then costs about its entry's write
 * units, not an entry's and a balance's (debit.ts).
 *
 * Only where every debit of the group would surely pass, as this container knows the balance:
 * the balance quiet and holding the sum (the entries then carry exact running balances), or
 * this container's lane holding it (and a limited sub-account's allowance). The transaction's
 * conditions are a single debit's, so a stale hint can only cancel it, never overdraw: a
 * balance that only moved (another container's debit, a fence) is tried again as it now is.
 * Keys used before are answered from their first outcome, read with the accounts, without a
 * write. A group that does not fit, or whose transaction is cancelled for anything else (a key
 * used meanwhile, a limit, a closed account, a conflict), is debited one by one (`alone`, the
 * single route's debit, which judges each exactly) before the next group of its balance is
 * tried, so one account's debits still commit in the order given.
 */
export type Settled = { entry: LedgerEntryItem; replayed: boolean } | { refused: AppError };

/**
 * Entries in one transaction: at most 100 items (TransactWriteItems), one of them for the
 * balance or lane and, for a limited sub-account's group, two for its meter (its account's check
 * and the meter itself).
 */
const entriesPerTransaction = (scope: Scope) => (scope.limited ? 97 : 99);
/** Balances whose groups commit at once. */
const BALANCES_AT_ONCE = 8;
/** Tries of one group whose balance only moved under it. */
const ATTEMPTS = 3;

/**
 * Settles every request of an active account: grouped, replayed, or `alone(i)`. Requests of
 * unknown, closed or suspended accounts are left undefined: the caller debits them alone too,
 * and they are refused as the single route refuses them.
 */
export async function debitTogether(
  requests: DebitRequest[],
  alone: (index: number) => Promise<Settled>,
): Promise<Array<Settled | undefined>> {
  const settled = new Array<Settled | undefined>(requests.length);
  const hints = await accountHints([...new Set(requests.map((r) => r.accountId))]);
  const groups = new Map<string, { scope: Scope; hint: AccountHint; indexes: number[] }>();
  const firsts = await firstOutcomes(requests, hints);
  requests.forEach((r, i) => {
    const hint = hints.get(r.accountId);
    if (hint?.status !== 'active') return;
    const scope = scopeOf(r.accountId, hint);
    const first = firsts.get(i);
    if (first !== undefined) {
      settled[i] = replayed(first, entryOf(r, hint, scope));
      return;
    }
    // A limited sub-account's debits are a group of their own (its meter); a pool's span its accounts.
    const group = groups.get(scope.id) ?? { scope, hint, indexes: [] };
    group.indexes.push(i);
    groups.set(scope.id, group);
  });
  // A balance this container reads only now would give a fence read after the accounts were: a
  // change of standing in between would pass under it. Its groups' accounts are read once more
  // after it (the fence protocol: the fence, then the facts; lanes.ts, fenceAndClose).
  const cold = new Set([...groups.values()].filter((g) => !balanceKnown(g.scope.head)).map((g) => g.scope.id));
  const queue = [...groups.values()];
  const worker = async () => {
    for (let group = queue.shift(); group; group = queue.shift()) {
      const { scope, hint, indexes } = group;
      const perTransaction = entriesPerTransaction(scope);
      for (let at = 0; at < indexes.length; at += perTransaction) {
        const chunk = indexes.slice(at, at + perTransaction);
        const ds = chunk.map((i) => requests[i] as DebitRequest);
        const recheck = at === 0 && cold.has(scope.id);
        const entries = await oneAtATime(scope.head, () => commitGroup(ds, scope, hint, hints, recheck));
        for (const [k, i] of chunk.entries()) {
          const entry = entries?.[k];
          settled[i] = entry ? { entry, replayed: false } : await alone(i);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(BALANCES_AT_ONCE, queue.length) }, worker));
  return settled;
}

/**
 * The accounts as they are now, and the meters of those with a limit (one BatchGetItem per 100
 * of each), remembered as this container's hints.
 */
async function accountHints(ids: string[]): Promise<Map<string, AccountHint>> {
  const accounts = await readAll(ids.map(accountKey));
  const limited = new Set(
    ids.filter((id) => {
      const account = foundItem(accounts, accountKey(id), accountShape);
      return account !== undefined && keepsMeter(account);
    }),
  );
  const meters = limited.size ? await readAll([...limited].map(meterKey)) : new Map();
  const hints = new Map<string, AccountHint>();
  for (const id of ids) {
    const account = foundItem(accounts, accountKey(id), accountShape);
    if (!account) continue;
    const meter = limited.has(id) ? (foundItem(meters, meterKey(id), meterShape) ?? (await meterCopiedFrom(account))) : undefined;
    hints.set(id, rememberAccount(account, meter ?? null));
  }
  return hints;
}

/** Items by key, 100 to a BatchGetItem, the pages read at once. */
async function readAll(keys: Key[]): Promise<Map<string, Record<string, unknown>>> {
  const pages = [];
  for (let i = 0; i < keys.length; i += 100) pages.push(getItems(keys.slice(i, i + 100)));
  return new Map((await Promise.all(pages)).flatMap((page) => [...page]));
}

/** The first outcome (entry or remembered refusal) under each request's key, where there is one. */
async function firstOutcomes(requests: DebitRequest[], hints: Map<string, AccountHint>): Promise<Map<number, unknown>> {
  const keyed = requests.flatMap((r, i) => {
    const agencyId = hints.get(r.accountId)?.agencyId;
    if (!agencyId) return [];
    const key = idempotencyKey({ agencyId, operation: 'usage', accountId: r.accountId, idempotencyKey: r.entry.idempotencyKey });
    return [{ i, id: itemId(key), key }];
  });
  const pages = [];
  for (let at = 0; at < keyed.length; at += 100) pages.push(getItems(keyed.slice(at, at + 100).map((k) => k.key)));
  const found = new Map((await Promise.all(pages)).flatMap((page) => [...page]));
  return new Map(keyed.filter((k) => found.has(k.id)).map((k) => [k.i, found.get(k.id)]));
}

/** A key's first outcome again: its entry, its remembered refusal, or 409 for another body. */
function replayed(first: unknown, attempted: LedgerEntryItem): Settled {
  try {
    return { entry: replayOf(first, attempted), replayed: true };
  } catch (refusal) {
    if (refusal instanceof AppError) return { refused: refusal };
    throw refusal;
  }
}

/** One transaction for the group (tried again while its balance only moved), or undefined when it did not commit. */
async function commitGroup(
  ds: DebitRequest[],
  scope: Scope,
  hint: AccountHint,
  hints: Map<string, AccountHint>,
  recheck: boolean,
): Promise<LedgerEntryItem[] | undefined> {
  const state = scopeState(scope.id);
  const sum = ds.reduce((n, d) => n + d.credits, 0);
  const month = (ds[0] as DebitRequest).month();
  // A limited sub-account's group is its own: the meter is its account's.
  const lead = (ds[0] as DebitRequest).accountId;
  for (let round = 1; round <= ATTEMPTS; round++) {
    const head = await balanceHint(scope.head);
    if (recheck && round === 1 && !(await stillOneGroup(ds, scope, hints))) return undefined;
    const entries = inIdOrder(ds.map((d) => entryOf(d, hints.get(d.accountId) as AccountHint, scope)));
    const moved = state.lane ? fromLane(state, scope, sum, month) : fromBalance(state, scope, hint, head, sum, entries);
    if (!moved) return undefined;
    const meter =
      scope.limited && moved.name === 'balance'
        ? chargeMeter({ accountId: lead, seenMonth: hints.get(lead)?.meterMonth, month, credits: sum })
        : [];
    const result = await attempt([moved, ...entries.map(entryWrite), ...meter], { retryConflicts: false });
    switch (result.kind) {
      case 'committed':
        break;
      case 'stale':
      case 'conflict': {
        const next = learnFrom(result, scope, state, head, hint.agencyId, lead);
        if (next === 'alone') return undefined;
        // The fence moved: what may debit this balance changed; the group's accounts are read again.
        if (next === 'fenced' && !(await stillOneGroup(ds, scope, hints))) return undefined;
        continue;
      }
      case 'refused':
        return throwing(result);
      default:
        return unhandled(result);
    }
    if (moved.name === 'balance') {
      rememberBalance(scope.head, { ...head, balance: head.balance - sum, version: head.version + 1 });
      if (scope.limited) noteMeterMonth(lead, month);
    } else if (state.lane) {
      state.lane.credits -= sum;
      if (scope.limited) state.lane.allowance = (state.lane.allowance ?? 0) - sum;
    }
    noteUse(state, sum);
    count('Debits', ds.length);
    count('CreditsDebited', sum);
    return entries;
  }
  return undefined;
}

/** After a fence moved: every account of the group read again, still active and still debiting this balance so. */
async function stillOneGroup(ds: DebitRequest[], scope: Scope, hints: Map<string, AccountHint>): Promise<boolean> {
  const fresh = await accountHints([...new Set(ds.map((d) => d.accountId))]);
  for (const [id, hint] of fresh) hints.set(id, hint);
  return ds.every((d) => {
    const hint = fresh.get(d.accountId);
    return hint?.status === 'active' && scopeOf(d.accountId, hint).id === scope.id;
  });
}

/** This container's lane, when it holds the sum (and, for a limited sub-account, the month's allowance for it). */
function fromLane(state: ScopeState, scope: Scope, sum: number, month: string): NamedItem<'lane'> | undefined {
  const lane = state.lane;
  if (!lane || lane.credits < sum) return undefined;
  if (scope.limited && (lane.month !== month || (lane.allowance ?? 0) < sum)) return undefined;
  return ownLaneDebit(scope, lane.slot, sum, month);
}

/** The balance item itself, while it is quiet (no lanes) and holds the sum; the entries get their running balances. */
function fromBalance(
  state: ScopeState,
  scope: Scope,
  hint: AccountHint,
  head: BalanceState,
  sum: number,
  entries: LedgerEntryItem[],
): NamedItem<'balance'> | undefined {
  if (head.lanesOpen > 0 || state.hotUntil > Date.now() || head.balance < sum) return undefined;
  let balance = head.balance;
  for (const e of entries) {
    balance += e.credits;
    e.balanceAfter = balance;
  }
  return {
    name: 'balance',
    write: moveBalance({
      key: scope.head,
      agencyId: hint.agencyId,
      from: head,
      delta: -sum,
      at: (entries[0] as LedgerEntryItem).createdAt,
      direct: { fence: head.fence },
    }),
  };
}

/** Ids of one millisecond sort at random: in order, the history lists the group as it was debited. */
function inIdOrder(entries: LedgerEntryItem[]): LedgerEntryItem[] {
  const ids = entries.map((e) => e.id).sort();
  return entries.map((e, i) => ({ ...e, id: ids[i] as string }));
}

/**
 * What a cancelled group tells this container, and what next: the balance only moved (its
 * version, or its fence: `fenced`) and still holds the sum with no lane open → try again as it
 * is now; anything else → the group's debits go one by one.
 */
function learnFrom(
  result: Extract<TransactResult<string>, { kind: 'stale' | 'conflict' }>,
  scope: Scope,
  state: ScopeState,
  head: BalanceState,
  agencyId: string,
  lead: string,
): 'retry' | 'fenced' | 'alone' {
  if (result.kind === 'conflict') {
    if (!state.lane) state.hotUntil = Date.now() + HOT_MS;
    return 'alone';
  }
  const standing = result.failed.standing?.old;
  if (standing) rememberAccount(accountShape.parse(standing));
  const meter = result.failed.meter;
  if (meter) rememberMeter(lead, meter.old as MeterItem | undefined);
  const balance = result.failed.balance;
  if (!balance) return 'alone';
  const seen = rememberBalance(scope.head, balance.old);
  const onlyMoved = result.reasons.every((r) => r.name === 'balance');
  if (!onlyMoved || seen.lanesOpen > 0) return 'alone';
  if (seen.fence === head.fence) return 'retry';
  // As debit() does: any account of the agency may have changed.
  forgetAccountsOf(agencyId);
  return 'fenced';
}
