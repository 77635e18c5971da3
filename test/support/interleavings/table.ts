import { type BalanceItem, getBalance } from '#db/items/balance';
import { getLanes, type LaneItem } from '#db/items/lane';
import { laneHeadKey, laneHeadShape } from '#db/items/lane-head';
import {
  accountDayKey,
  accountTotalsKey,
  agencyDayKey,
  getRollups,
  totalsAttribute,
  totalsPart,
  walletTotalsAttribute,
} from '#db/items/usage-rollup';
import { getItem, itemId } from '#db/read';
import type { Key } from '#db/schema';
import { exactBalance } from '#domain/ledger/balances';
import { closeLanes } from '#domain/ledger/lane-close';
import { api } from '../api';
import { accountItem, ledgerEntries, ledgerRefusals, meterItem, type StoredEntry } from '../ledger';
import type { BalanceRef } from './commands';
import { AT, type Env, headOf } from './execute';
import { type Flow, finalOf, type History, total } from './history';

/**
 * The checks on the table once a run's requests have all answered:
 * - one entry per key (a grant's two, one on each side), none for a refusal, whose refusal is
 *   remembered instead; no entry the answers do not account for; each answer's entry as stored;
 * - every balance, its item and lanes together, never below zero anywhere, equal to the sum
 *   of its entries and to the credits the answers say came in less those they say went out
 *   (also as the API reads it); `purchased` = credits in, `consumed` (item and lanes) = credits
 *   out; `lanesOpen` counts the lanes there are, and the balance is on the sweeper's list
 *   exactly while there are any;
 * - then, every lane collected: the same balances in the item alone, nothing listed for the
 *   sweeper, and each sub-account's monthly meter = its limit less what the limit counted.
 */
export async function checkTable(e: Env, flows: Flow[], problems: string[]): Promise<void> {
  const { world: w, run } = e;
  const h = run.history;
  const [entries, refusals] = await Promise.all([ledgerEntries(w.agencyId), ledgerRefusals(w.agencyId)]);
  checkEntries(h, entries, refusals, problems);
  const balances: BalanceRef[] = ['pool', ...w.subs.map((_, i) => i)];
  const own = (b: BalanceRef) =>
    entries.filter((x) => (b === 'pool' ? x.balanceKind === 'pool' : x.balanceKind === 'wallet' && x.accountId === w.subs[b]));
  for (const b of balances) await checkBalance(e, b, own(b), total(flows, b), false, problems);
  // Every lane back into its balance (as a collect does), then the same again, from the items alone.
  for (const b of balances) await closeLanes(headOf(w, b));
  for (const b of balances) await checkBalance(e, b, own(b), total(flows, b), true, problems);
  await checkMeters(e, flows, problems);
}

function checkEntries(h: History, entries: StoredEntry[], refusals: Record<string, any>[], problems: string[]): void {
  const byKey = new Map<string, StoredEntry[]>();
  for (const x of entries) byKey.set(String(x.idempotencyKey), [...(byKey.get(String(x.idempotencyKey)) ?? []), x]);
  const refused = new Map(refusals.map((r) => [String(r.sk).split('#').at(-1), r]));
  const keys = new Set(h.money.map((m) => m.key));
  for (const key of byKey.keys()) if (!keys.has(key)) problems.push(`an entry under key ${key}, which no request sent`);
  for (const key of keys) {
    const m = h.withKey(key)[0]!;
    const answer = h
      .withKey(key)
      .map((r) => finalOf(r.attempts))
      .find((a) => a && a.status !== 503);
    const stored = byKey.get(key) ?? [];
    const say = (what: string) => problems.push(`${m.label} (key ${key}): ${what}`);
    if (answer?.status === 201) {
      const want = m.op === 'grant' ? 2 : 1;
      if (stored.length !== want) say(`${stored.length} entries, not ${want}`);
      if (refused.has(key)) say('both an entry and a refusal');
      const mine = stored.find((x) => x.id === answer.body.entry.id);
      if (!mine) say(`the answer's entry ${answer.body.entry.id} is not stored`);
      else if (mine.credits !== answer.body.entry.credits || mine.balanceAfter !== answer.body.entry.balanceAfter)
        say(
          `stored ${mine.credits}/${mine.balanceAfter}, answered ${answer.body.entry.credits}/${answer.body.entry.balanceAfter}`,
        );
      if (m.op === 'grant' && stored.reduce((n, x) => n + x.credits, 0) !== 0) say('a grant that does not sum to zero');
    } else if (answer) {
      if (stored.length) say(`refused ${answer.body?.code}, yet ${stored.length} entries`);
      if (refused.get(key)?.code !== answer.body?.code) say(`refused ${answer.body?.code}, but the refusal is not remembered`);
    }
  }
}

async function checkBalance(
  e: Env,
  b: BalanceRef,
  entries: StoredEntry[],
  model: number,
  collected: boolean,
  problems: string[],
) {
  const head = headOf(e.world, b);
  const label = `${b === 'pool' ? 'pool' : `wallet ${b}`}${collected ? ' (lanes collected)' : ''}`;
  const say = (what: string) => problems.push(`${label}: ${what}`);
  const item = (await getBalance(head)) as BalanceItem | undefined;
  const lanes = await getLanes(head, item?.laneSlots ?? 0);
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  const exact = (item?.balance ?? 0) + sum(lanes.map((l) => l.credits));
  if ((item?.balance ?? 0) < 0) say(`the item holds ${item?.balance}`);
  for (const l of lanes) if (l.credits < 0 || (l.allowance ?? 0) < 0 || (l.spent ?? 0) < 0) say(`lane ${l.slot}: ${laneText(l)}`);
  if (exact !== sum(entries.map((x) => x.credits)))
    say(`${exact} (item and lanes) ≠ ${sum(entries.map((x) => x.credits))}, its entries`);
  if (exact !== model) say(`${exact}, but the answers moved it to ${model}`);
  if ((item?.purchased ?? 0) !== sum(entries.filter((x) => x.credits > 0).map((x) => x.credits)))
    say(`purchased ${item?.purchased} ≠ credits in`);
  const consumed = (item?.consumed ?? 0) + sum(lanes.map((l) => l.spent ?? 0));
  if (consumed !== sum(entries.filter((x) => x.credits < 0).map((x) => -x.credits))) say(`consumed ${consumed} ≠ credits out`);
  if ((item?.lanesOpen ?? 0) !== lanes.length) say(`lanesOpen ${item?.lanesOpen}, ${lanes.length} lanes there`);
  if (collected && lanes.length) say('lanes left after a collect');
  const listed = (await getItem(laneHeadKey(head), laneHeadShape)) !== undefined;
  if (listed !== lanes.length > 0) say(`${lanes.length} lanes there, ${listed ? '' : 'not '}on the sweeper's list`);
  const read = (await exactBalance(head)).balance;
  if (read !== exact) say(`read as ${read}, is ${exact}`);
  if (b === 'pool') {
    const res = await api('GET', '/v1/credits/balance', { token: e.world.agencyToken });
    if (res.body.balance !== exact) say(`the API reads ${res.body.balance}, is ${exact}`);
  }
}

const laneText = (l: LaneItem) => `credits ${l.credits}, allowance ${l.allowance}, spent ${l.spent}`;

/** A limited sub-account's meter once every allowance is back: its limit less the pool debits the limit counted. */
async function checkMeters(e: Env, flows: Flow[], problems: string[]): Promise<void> {
  const h = e.run.history;
  for (const [i, id] of e.world.subs.entries()) {
    const account = await accountItem(id);
    const s = h.settledStanding(i);
    const say = (what: string) => problems.push(`sub ${i}: ${what}`);
    if (
      account?.creditMode !== s.mode ||
      (account?.monthlyCreditLimit ?? null) !== s.limit ||
      (account?.status === 'closed') !== s.closed
    )
      say(
        `stands ${account?.creditMode}/${account?.monthlyCreditLimit}/${account?.status}, the answers say ${JSON.stringify(s)}`,
      );
    const pool = flows.filter(
      (f) => f.balance === 'pool' && h.withKey(f.key)[0]!.op === 'usage' && h.withKey(f.key)[0]!.who === i,
    );
    const all = pool.reduce((n, f) => n - f.delta, 0);
    const meter = await meterItem(id);
    const counted = meter?.meterMonth === AT.slice(0, 7) ? (meter.meterPoolUsed ?? 0) : 0;
    if (counted > all) say(`the meter counts ${counted} of the pool, its pool debits were ${all}`);
    if (h.standingsEver(i).every((x) => x.limit !== null) && counted !== all)
      say(`limited throughout, yet the meter counts ${counted} and its pool debits were ${all}`);
    if (s.limit !== null && meter?.meterMonth === AT.slice(0, 7) && meter.meterRemaining !== s.limit - counted)
      say(`meterRemaining ${meter.meterRemaining} ≠ limit ${s.limit} − ${counted}`);
  }
}

/** The rollups (built from the stream, and handed batches again) = the sums of the usage entries. */
export async function checkRollups(e: Env, problems: string[]): Promise<void> {
  const entries = (await ledgerEntries(e.world.agencyId)).filter(
    (x) => x.type === 'ai_response' || x.type === 'campaign_message',
  );
  const want = new Map<string, { key: Key; counters: Record<string, number> }>();
  const add = (key: Key, counters: Record<string, number>) => {
    const row = want.get(itemId(key)) ?? { key, counters: {} };
    for (const [k, n] of Object.entries(counters)) row.counters[k] = (row.counters[k] ?? 0) + n;
    want.set(itemId(key), row);
  };
  for (const x of entries) {
    const q = -x.credits;
    const typed = { total: q, [x.type]: q };
    const date = String(x.createdAt).slice(0, 10);
    add(accountDayKey(x.accountId, date), x.balanceKind === 'wallet' ? { ...typed, wallet: q } : typed);
    add(agencyDayKey(e.world.agencyId, date), x.balanceKind === 'wallet' ? { ...typed, wallet: q } : typed);
    // The account's month, in its agency's month part: its credits and, apart, its wallet's share.
    const asTotal = { total: q, [totalsAttribute(x.accountId)]: q };
    add(
      accountTotalsKey(e.world.agencyId, totalsPart(x.accountId), String(x.createdAt).slice(0, 7)),
      x.balanceKind === 'wallet' ? { ...asTotal, [walletTotalsAttribute(x.accountId)]: q } : asTotal,
    );
  }
  const found = await getRollups([...want.values()].map((r) => r.key));
  for (const [id, { counters }] of want) {
    const item = found.get(id) as Record<string, unknown> | undefined;
    const perAccount = [...Object.keys(counters), ...Object.keys(item ?? {})].filter((name) => /^[aw]_/.test(name));
    for (const c of new Set(['total', 'ai_response', 'campaign_message', 'wallet', ...perAccount])) {
      if (Number(item?.[c] ?? 0) !== (counters[c] ?? 0))
        problems.push(`rollup ${id} ${c}: ${item?.[c] ?? 0}, the entries sum to ${counters[c] ?? 0}`);
    }
  }
}
