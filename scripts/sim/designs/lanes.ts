/**
 * Design D, container-owned escrow lanes, adaptive. A balance (the pool, a wallet) is a reserve
 * item plus lanes, each under its own partition key; a limited manual sub-account's debits use
 * lanes of their own that escrow pool credits and monthly allowance (from its LIMIT item) alike.
 *
 * - Quiet: a debit is one TransactWriteItems on the reserve (version-pinned, exact balanceAfter),
 *   the LIMIT item when limited, and the entry.
 * - Contended (a moved version, a TransactionConflict, a throttle): the container claims a free
 *   lane (conditional on its owner) and fills it with a chunk sized to its recent use, in the
 *   same transaction as its debit, and keeps the balance in lane mode for a while.
 * - In lane mode a debit is [lane −q IF owner = me AND open AND balance ≥ q (AND month,
 *   allowance); entry]: 2 items, 5 WCU with the entry's index copy; only its owner writes a lane.
 *   A lane is refilled ahead of running dry, riding on a debit; a refill that fails is dropped
 *   while the lane still has enough.
 * - Short: the reserve is marked collapsed (no refills, no claims), every lane holding the
 *   balance's credits is closed and emptied back on its exact balance, and only a direct debit
 *   that still finds too little, once no lane is left, is refused 402. A top-up that brings the
 *   reserve back above `uncollapseCredits` reopens lanes.
 * - A sweeper returns lanes unused for the lease (their container gone or idle).
 * - Lanes are found through a sparse KEYS_ONLY index (written on claim and release only).
 * - Entries are sharded (pk and gsi1 pk carry h(key) mod entryShards); day counters and month
 *   meters go to the stream aggregator (design.ts).
 *
 * `reserveShards` > 1 is a variant the simulation found necessary (D as specified is 1): lanes
 * draw from one of R reserve shards (and allowance shards of the LIMIT item), which draw from
 * the reserve in large chunks, so the reserve (and a hot LIMIT item) sees few transactions.
 */
import { readLatencyMs } from '../aws';
import {
  type AccountHint,
  Aggregator,
  type Answer,
  accountHint,
  type Ctx,
  creditEntryWrite,
  type Design,
  entryWrite,
  hintHolder,
  hintLimited,
  limitItem,
  probeFor,
  refusal,
  storeRefusal,
  switchModeByTtl,
} from '../design';
import type { Item, Origin, TxResult, Write } from '../dynamo';
import type { Proc } from '../engine';
import type { Container } from '../lambda';
import { type Debit, POOL, type SubAccount } from '../world';

interface Lane {
  item: Item;
  /** Known exactly: only this container writes the lane (a collect or a sweep makes its next write fail). */
  balance: number;
  allowance: number;
  month: number;
}

interface ScopeState {
  lane?: Lane;
  /** Credits/s this container has been drawing on this scope (a decaying sum). */
  rate: number;
  at: number;
  /** A refill or claim that found its source short waits until then. */
  refillAfter: number;
  /** Contention was met on this scope lately: claim a lane rather than try the reserve first. */
  hotUntil: number;
}

export interface LanesState {
  id: number;
  accounts: Map<number, AccountHint>;
  reserves: Map<string, { balance: number; version: number }>;
  scopes: Map<string, ScopeState>;
  /** When this container last collected a scope and found nothing set aside (its next refusals only read). */
  collected: Map<string, number>;
}

export interface LanesTuning {
  /** A top-up reopens lanes once the reserve holds this many credits (set from the agency's spend). */
  uncollapseCredits: number;
  /** Reserve (and allowance) shards lanes draw from; 1 is D as specified. */
  reserveShards: number;
  /**
   * A limited sub-account that is not hot itself debits the container's pool lane and its LIMIT
   * item (3 items, 7 WCU) instead of the pool reserve; only a contended LIMIT item gets lanes
   * of its own. D as specified: false (every limited sub-account is a scope of its own).
   */
  quietLimitedOnPoolLane: boolean;
  /**
   * Chunks sized as the build sizes them (packages/domain/ledger/lanes.ts `chunkFor`): the more
   * lanes a scope has open, the more seconds of use each chunk holds (3–30 s, aiming at 10
   * refills a second on the reserve), at least 25 debits, at most a fair share of the reserve.
   * Otherwise: `chunkSeconds` of use, at most `chunkReserveShare` of the reserve.
   */
  chunksAsBuilt?: boolean;
  /**
   * A claim on the reserve also fills lanes that no container owns yet (in the same
   * transaction) when none is waiting: twice as many as the scope has in use, one more
   * counted (2, 8, 24…), at most this many. A container needing a lane takes one of those first (a transaction on the lane
   * and its entry only), so the containers that start together do not all claim on the one
   * reserve item. 0: every claim is on the reserve.
   */
  prefilledLanes?: number;
}

/** The build's constants (packages/domain/ledger/lanes.ts), for `chunksAsBuilt`. */
const BUILT_TARGET_REFILLS_PER_SECOND = 10;
const BUILT_MIN_DEBITS_PER_CHUNK = 25;

const RATE_TAU_MS = 1000;
const HOT_MS = 10_000;
const MAX_ROUNDS = 20;
const LANE_PROBES = 4;
/** A container that collected and found nothing set aside judges its next refusals of that scope by reading only, for this long. */
const MEMO_MS = 1000;

type Field = 'balance' | 'allowance';
const take = (field: Field, n: number) => (it: Item) => {
  it[field] -= n;
  if (field === 'balance') it.version++;
};
const give = (field: Field, n: number) => (it: Item) => {
  it[field] += n;
  if (field === 'balance') it.version++;
};

const scopeOf = (sub: SubAccount, hint: AccountHint) => (hintLimited(hint) ? `L${sub.id}` : hintHolder(sub, hint));
const holderPk = (holder: string) => (holder === POOL ? 'ACCOUNT#agc' : `ACCOUNT#${holder.slice(7)}`);
const reserveOf = (ctx: Ctx, holder: string) => ctx.db.item(`RES#${holder}`, holderPk(holder), { holds: holder, bytes: 250 });
const laneOf = (ctx: Ctx, scope: string, holder: string, k: number) =>
  ctx.db.item(`LANE#${scope}#${k}`, `LANE#${scope}#${k}`, { holds: holder, bytes: 200, gsiPk: `LANES#${scope}#${k % 16}` });

export function lanesDesign(tuning: LanesTuning, name = 'D'): Design<LanesState> {
  let nextContainer = 1;
  let aggregator: Aggregator | undefined;
  const R = Math.max(1, tuning.reserveShards);
  /** The sparse index: owned lanes per scope, and the scopes per holder that ever had one. */
  const owned = new Map<string, Set<number>>();
  const scopesOf = new Map<string, Set<string>>();
  const ownedIn = (scope: string) => {
    let s = owned.get(scope);
    if (!s) owned.set(scope, (s = new Set()));
    return s;
  };
  const noteScope = (holder: string, scope: string) => {
    let s = scopesOf.get(holder);
    if (!s) scopesOf.set(holder, (s = new Set()));
    s.add(scope);
  };
  const laneNumber = (lane: Item) => Number(lane.key.slice(lane.key.lastIndexOf('#') + 1));
  const holderOfScope = (scope: string) => (scope.startsWith('L') ? POOL : scope);
  const limitedSubOf = (ctx: Ctx, scope: string) =>
    scope.startsWith('L') ? ctx.world.subs[Number(scope.slice(1)) - 1] : undefined;

  /** Where a container's lane refills from: the reserve, or (sharded) its reserve shard. */
  const creditSource = (ctx: Ctx, holder: string, containerId: number) =>
    R === 1
      ? reserveOf(ctx, holder)
      : ctx.db.item(`RES#${holder}#${containerId % R}`, `RES#${holder}#${containerId % R}`, { holds: holder, bytes: 150 });
  const allowanceShard = (ctx: Ctx, sub: SubAccount, month: number, j: number) =>
    ctx.db.item(`LIMIT#${sub.id}#${month}#${j}`, `LIMIT#${sub.id}#${month}#${j}`, { month, bytes: 150 });
  /**
   * The month's LIMIT item. With shards, the month's scheduled job that creates it also seeds
   * each allowance shard with limit/(2R), so the month does not start with every lane feeding
   * its shard from one item.
   */
  const monthLimit = (ctx: Ctx, sub: SubAccount, month: number) => {
    const fresh = !ctx.db.items.has(`LIMIT#${sub.id}#${month}`);
    const root = limitItem(ctx, sub, month);
    if (fresh && shardsAllowance(sub)) {
      const seed = Math.floor(root.allowance / (2 * R));
      for (let j = 0; j < R; j++) allowanceShard(ctx, sub, month, j).allowance += seed;
      root.allowance -= seed * R;
    }
    return root;
  };
  /** Allowance is sharded only where the limit is large enough for chunks on every shard. */
  const shardsAllowance = (sub: SubAccount) => R > 1 && sub.limit >= R * 1000;
  const allowanceSource = (ctx: Ctx, sub: SubAccount, month: number, containerId: number) => {
    const root = monthLimit(ctx, sub, month);
    return shardsAllowance(sub) ? allowanceShard(ctx, sub, month, containerId % R) : root;
  };
  /** A source can give `n`: the reserve or LIMIT item only while not collapsed (a shard has no flag: the collector empties it). */
  /** A lane filled ahead by a claim, that no container owns yet, holding at least `q`. */
  const isWaiting = (it: Item, q: number, month?: number) =>
    it.owner === 0 && !it.flag && it.balance >= q && (month === undefined || (it.month === month && it.allowance >= q));
  const canGive = (field: Field, n: number, isRoot: boolean) => (it: Item) => it[field] >= n && !(isRoot && it.flag);

  const entry = (ctx: Ctx, req: Debit, holder: string, month: number): Write =>
    entryWrite(ctx, req, holder, month, ctx.opts.entryShards, () => aggregator?.saw(req, month));

  const scopeState = (st: LanesState, scope: string, now: number): ScopeState => {
    let s = st.scopes.get(scope);
    if (!s) st.scopes.set(scope, (s = { rate: 0, at: now, refillAfter: 0, hotUntil: 0 }));
    return s;
  };
  const noteUse = (s: ScopeState, q: number, now: number) => {
    s.rate = s.rate * Math.exp(-(now - s.at) / RATE_TAU_MS) + (q * 1000) / RATE_TAU_MS;
    s.at = now;
  };
  const chunkFor = (ctx: Ctx, s: ScopeState, q: number, available: number, scope: string) => {
    if (tuning.chunksAsBuilt) {
      const open = ownedIn(scope).size;
      const seconds = Math.min(30, Math.max(3, (open + 1) / BUILT_TARGET_REFILLS_PER_SECOND));
      const wanted = Math.max(q * BUILT_MIN_DEBITS_PER_CHUNK, Math.ceil(s.rate * seconds));
      return Math.max(q, Math.min(wanted, Math.floor(available / (open + 2))));
    }
    const wanted = Math.max(5 * q, Math.ceil(s.rate * ctx.opts.chunkSeconds));
    return Math.max(q, Math.min(wanted, Math.floor(available * ctx.opts.chunkReserveShare)));
  };

  /**
   * Moves a large chunk from the reserve (or the month's LIMIT item) into a shard, when a
   * lane's refill found its shard short. The reserve sees only these and direct debits.
   */
  function* feedShard(
    ctx: Ctx,
    holder: string,
    shard: Item,
    field: Field,
    need: number,
    sub?: SubAccount,
    month?: number,
  ): Proc<boolean> {
    // Another container may have fed it meanwhile: read it first (many find it short at once).
    yield* ctx.db.read(readLatencyMs(ctx.rng));
    if (shard[field] >= need) return true;
    const root = field === 'balance' ? reserveOf(ctx, holder) : monthLimit(ctx, sub!, month!);
    const chunk = Math.min(root[field], Math.max(need, Math.floor(root[field] / (2 * R))));
    if (chunk < need) return false;
    const r = yield* ctx.db.transact(
      [
        { item: root, check: canGive(field, chunk, true), apply: take(field, chunk) },
        { item: shard, apply: give(field, chunk) },
      ],
      'request',
    );
    return r.ok;
  }

  /**
   * Empties a lane (or a shard) on its exact state: into the reserve and the month's LIMIT item
   * when collecting; a lane merely given up (swept, dry, a new month) goes back to its owner's
   * shards instead, so the reserve does not see every lane's end.
   */
  function* release(
    ctx: Ctx,
    scope: string,
    lane: Item,
    origin: Origin,
    expectOwner?: number,
    expectLastUsed?: number,
    toRoot = expectOwner === undefined,
    allowanceOnly = false,
  ): Proc<boolean> {
    const holder = holderOfScope(scope);
    const { balance: b, allowance: a, month, owner } = lane;
    const sub = limitedSubOf(ctx, scope);
    const isLane = lane.key.startsWith('LANE#');
    const viaShards = R > 1 && !toRoot && isLane;
    // A limit's collect takes the lanes' allowance back to the LIMIT item; their credits need not
    // go to the reserve (nobody is short of them): they go to the owner's shard.
    const creditsViaShards = R > 1 && isLane && (viaShards || allowanceOnly);
    const writes: Write[] = [
      {
        item: lane,
        check: (it) =>
          it.balance === b &&
          it.allowance === a &&
          it.owner === owner &&
          (expectOwner === undefined || it.owner === expectOwner) &&
          (expectLastUsed === undefined || it.lastUsed === expectLastUsed),
        apply: (it) => {
          it.balance = 0;
          it.allowance = 0;
          it.owner = 0;
          it.flag = false;
          if (isLane) ownedIn(scope).delete(laneNumber(it));
        },
        indexed: isLane,
      },
    ];
    if (b > 0)
      writes.push({
        item: creditsViaShards ? creditSource(ctx, holder, owner) : reserveOf(ctx, holder),
        apply: give('balance', b),
      });
    if (sub && a > 0 && month === ctx.world.month) {
      const to = viaShards && shardsAllowance(sub) ? allowanceShard(ctx, sub, month, owner % R) : monthLimit(ctx, sub, month);
      writes.push({ item: to, apply: give('allowance', a) });
    }
    const r = yield* ctx.db.transact(writes, origin);
    return r.ok;
  }

  /**
   * The low-balance path. For credits: mark the reserve collapsed, then empty every lane that
   * holds the holder's credits (for the pool, its own lanes and the limited sub-accounts') and
   * every reserve shard. For a limit: the sub-account's lanes and allowance shards. Returns how
   * many lanes and shards held something (0: nothing was set aside anywhere).
   */
  function* collect(ctx: Ctx, holder: string, onlyScope?: string, collapsed = false): Proc<number> {
    const limitSub = onlyScope ? limitedSubOf(ctx, onlyScope) : undefined;
    // Collapse the source first (the reserve; for a limit, the month's LIMIT item): no more claims or feeds.
    const root = limitSub ? monthLimit(ctx, limitSub, ctx.world.month) : onlyScope ? undefined : reserveOf(ctx, holder);
    if (root && !collapsed && !root.flag) {
      for (let i = 0; i < 5; i++) {
        const r = yield* ctx.db.write({ item: root, apply: (it) => (it.flag = true) }, 'request');
        if (r === 'ok') break;
        yield ctx.rng.uniform() * 10;
      }
    }
    let found = 0;
    // Shards first (once empty, no lane can be refilled from them), then the lanes.
    if (R > 1) {
      const sub = onlyScope ? limitedSubOf(ctx, onlyScope) : undefined;
      const shards: [string, Item][] = [];
      for (let j = 0; j < R; j++) {
        if (sub && !shardsAllowance(sub)) break;
        if (sub) shards.push([onlyScope!, allowanceShard(ctx, sub, ctx.world.month, j)]);
        else if (!onlyScope) shards.push([holder, creditSource(ctx, holder, j)]);
      }
      found += yield* emptyAll(ctx, shards);
    }
    const scopes = onlyScope ? [onlyScope] : [...(scopesOf.get(holder) ?? [])];
    const lanes: [string, Item][] = [];
    for (const scope of scopes) for (const k of ownedIn(scope)) lanes.push([scope, laneOf(ctx, scope, holder, k)]);
    found += yield* emptyAll(ctx, lanes, Boolean(limitSub));
    return found;
  }

  /**
   * Reads these lanes or shards (one BatchGetItem per 100), closes the lanes (single writes on
   * distinct items, in parallel), then empties them into the reserve (and LIMIT item) ≤ 90 at a
   * time, each transaction conditional on every item's exact state, so a collect touches the
   * reserve a few times, not once per lane. Returns how many held something.
   */
  function* emptyAll(ctx: Ctx, targets: [string, Item][], allowanceOnly = false): Proc<number> {
    yield* ctx.db.read(readLatencyMs(ctx.rng, 1 + Math.ceil(targets.length / 100)));
    const holding = targets.filter(([, it]) => it.owner !== 0 || it.balance !== 0 || it.allowance !== 0);
    const lanes = holding.filter(([, it]) => it.key.startsWith('LANE#') && !it.flag && it.owner !== 0);
    if (lanes.length) {
      let pending = lanes.length;
      const closed = ctx.sim.signal();
      for (const [, lane] of lanes) {
        ctx.sim.spawn(
          (function* () {
            for (let i = 0; i < 8 && !lane.flag && lane.owner !== 0; i++) {
              const r = yield* ctx.db.write(
                { item: lane, check: (it) => it.owner !== 0, apply: (it) => (it.flag = true), indexed: false },
                'request',
              );
              if (r === 'ok' || r === 'condition') return;
              yield ctx.rng.uniform() * 10;
            }
          })(),
          () => {
            if (--pending === 0) closed.notify();
          },
        );
      }
      yield closed;
    }
    for (let attempt = 0; attempt < 8; attempt++) {
      const left = holding.filter(([, it]) => it.owner !== 0 || it.balance !== 0 || it.allowance !== 0);
      if (!left.length) break;
      for (let i = 0; i < left.length; i += 90) yield* releaseMany(ctx, left.slice(i, i + 90), allowanceOnly);
      yield ctx.rng.uniform() * 10;
    }
    return holding.length;
  }

  /** One transaction emptying these lanes or shards (exact states) into the reserve and LIMIT items. */
  function* releaseMany(ctx: Ctx, batch: [string, Item][], allowanceOnly: boolean): Proc<boolean> {
    const writes: Write[] = [];
    const credits = new Map<string, number>();
    const allowance = new Map<Item, number>();
    for (const [scope, it] of batch) {
      const { balance: b, allowance: a, owner, month } = it;
      const isLane = it.key.startsWith('LANE#');
      writes.push({
        item: it,
        check: (x) => x.balance === b && x.allowance === a && x.owner === owner,
        apply: (x) => {
          x.balance = 0;
          x.allowance = 0;
          x.owner = 0;
          x.flag = false;
          if (isLane) ownedIn(scope).delete(laneNumber(x));
        },
        indexed: isLane,
      });
      const holder = holderOfScope(scope);
      if (b > 0) {
        // A limit's collect leaves the credits with the owner's shard; a credits' collect takes them to the reserve.
        const to = allowanceOnly && R > 1 && isLane ? creditSource(ctx, holder, owner).key : reserveOf(ctx, holder).key;
        credits.set(to, (credits.get(to) ?? 0) + b);
      }
      const sub = limitedSubOf(ctx, scope);
      if (sub && a > 0 && month === ctx.world.month) {
        const limit = monthLimit(ctx, sub, month);
        allowance.set(limit, (allowance.get(limit) ?? 0) + a);
      }
    }
    for (const [key, b] of credits) writes.push({ item: ctx.db.items.get(key)!, apply: give('balance', b) });
    for (const [item, a] of allowance) writes.push({ item, apply: give('allowance', a) });
    const r = yield* ctx.db.transact(writes, 'request');
    return r.ok;
  }

  /** Direct mode: the reserve version-pinned, the LIMIT item when limited, the entry. */
  function* direct(ctx: Ctx, st: LanesState, req: Debit, holder: string, limited: boolean, month: number): Proc<TxResult> {
    const reserve = reserveOf(ctx, holder);
    let hint = st.reserves.get(holder);
    if (!hint) {
      yield* ctx.db.read(readLatencyMs(ctx.rng));
      st.reserves.set(holder, (hint = { balance: reserve.balance, version: reserve.version }));
    }
    const v = hint.version;
    const q = req.q;
    const writes: Write[] = [
      { item: reserve, check: (it) => it.version === v && it.balance >= q, apply: take('balance', q) },
      entry(ctx, req, holder, month),
    ];
    if (limited)
      writes.push({ item: monthLimit(ctx, req.sub, month), check: (it) => it.allowance >= q, apply: take('allowance', q) });
    const r = yield* ctx.db.transact(writes, 'request', probeFor(ctx, req.sub, holder, month));
    if (r.ok) st.reserves.set(holder, { balance: hint.balance - q, version: v + 1 });
    else if (r.seen[0]) st.reserves.set(holder, { balance: r.seen[0].balance, version: r.seen[0].version });
    return r;
  }

  /** The sources' writes for moving `chunk` into a lane: credits, and allowance when limited. */
  const sourcesFor = (
    ctx: Ctx,
    c: Container<LanesState>,
    req: Debit,
    holder: string,
    limited: boolean,
    month: number,
    chunk: number,
  ) => {
    const writes: Write[] = [
      { item: creditSource(ctx, holder, c.id), check: canGive('balance', chunk, R === 1), apply: take('balance', chunk) },
    ];
    if (limited) {
      writes.push({
        item: allowanceSource(ctx, req.sub, month, c.id),
        check: canGive('allowance', chunk, !shardsAllowance(req.sub)),
        apply: take('allowance', chunk),
      });
    }
    return writes;
  };

  /**
   * A refill or claim found its source short (the writes at `first` in its transaction). With
   * shards, feed the short shard from the reserve and say 'again'; else, or if the reserve is
   * short too, 'short'.
   */
  function* afterShortSource(
    ctx: Ctx,
    r: TxResult,
    first: number,
    chunk: number,
    c: Container<LanesState>,
    req: Debit,
    holder: string,
    limited: boolean,
    month: number,
  ): Proc<'again' | 'short'> {
    if (R === 1) return 'short';
    if (r.seen[first + 1] && limited && !shardsAllowance(req.sub)) return 'short';
    if (r.seen[first] && !(yield* feedShard(ctx, holder, creditSource(ctx, holder, c.id), 'balance', chunk))) return 'short';
    if (limited && r.seen[first + 1]) {
      const shard = allowanceSource(ctx, req.sub, month, c.id);
      if (!(yield* feedShard(ctx, holder, shard, 'allowance', chunk, req.sub, month))) return 'short';
    }
    return 'again';
  }

  /** Claims a free lane and fills it with a chunk, with this debit, in one transaction. */
  function* claim(
    ctx: Ctx,
    c: Container<LanesState>,
    s: ScopeState,
    scope: string,
    req: Debit,
    holder: string,
    limited: boolean,
    month: number,
    extra: Write[] = [],
  ): Proc<'ok' | 'short' | 'busy'> {
    const q = req.q;
    const available = R === 1 ? reserveOf(ctx, holder).balance : reserveOf(ctx, holder).balance / R;
    const chunk = chunkFor(ctx, s, q, available, scope);
    // The index says which lanes are taken (one Query); the claim's condition settles races.
    yield* ctx.db.read(readLatencyMs(ctx.rng));
    const taken = ownedIn(scope);
    const P = tuning.prefilledLanes ?? 0;
    const forMonth = limited ? month : undefined;
    const waiting = P ? [...taken].filter((k) => isWaiting(laneOf(ctx, scope, holder, k), q, forMonth)) : [];
    for (let i = 0; i < Math.min(LANE_PROBES, waiting.length); i++) {
      const lane = laneOf(ctx, scope, holder, waiting[(c.id + i) % waiting.length]!);
      let left = 0;
      let leftAllowance = 0;
      const r = yield* ctx.db.transact(
        [
          {
            item: lane,
            check: (it) => isWaiting(it, q, forMonth),
            apply: (it) => {
              it.owner = c.id;
              it.balance -= q;
              if (limited) it.allowance -= q;
              it.lastUsed = ctx.sim.now;
              left = it.balance;
              leftAllowance = it.allowance;
            },
            indexed: false,
          },
          entry(ctx, req, holder, month),
          ...extra,
        ],
        'request',
      );
      if (r.ok) {
        s.lane = { item: lane, balance: left, allowance: limited ? leftAllowance : 0, month };
        return 'ok';
      }
      if (extra.length && r.reasons[2] !== 'none') return 'busy';
    }
    // As the build (debit-ahead.ts): twice the scope's lanes in use, one more counted.
    const ahead = Math.min(P, 2 * (taken.size + 1));
    const fill =
      P &&
      waiting.length === 0 &&
      available >= 2 * chunk * (ahead + 1) &&
      (!limited || monthLimit(ctx, req.sub, month).allowance >= 2 * chunk * (ahead + 1))
        ? Array.from({ length: ctx.opts.maxLanes }, (_, k) => k)
            .filter((k) => !taken.has(k) && laneOf(ctx, scope, holder, k).owner === 0)
            .slice(0, ahead + LANE_PROBES)
        : [];
    // Lanes to fill ahead, never the one being claimed (one transaction writes an item once).
    const prefillBeside = (claimed: number) =>
      fill
        .filter((k) => k !== claimed)
        .slice(0, ahead)
        .map(
          (k): Write => ({
            item: laneOf(ctx, scope, holder, k),
            check: (it) => it.owner === 0 && it.balance === 0 && !it.flag,
            apply: (it) => {
              it.balance = chunk;
              if (limited) it.allowance = chunk;
              it.month = month;
              it.lastUsed = ctx.sim.now;
              ownedIn(scope).add(k);
            },
            indexed: true,
          }),
        );
    const base = (c.id * 2654435761) % ctx.opts.maxLanes;
    for (let probe = 0, tries = 0; probe < 64 && tries < LANE_PROBES; probe++) {
      const k = (base + probe * 7919) % ctx.opts.maxLanes;
      if (taken.has(k)) continue;
      tries++;
      const lane = laneOf(ctx, scope, holder, k);
      const prefill = prefillBeside(k);
      const writes: Write[] = [
        {
          item: lane,
          check: (it) => it.owner === 0 && it.balance === 0 && !it.flag,
          apply: (it) => {
            it.owner = c.id;
            it.balance = chunk - q;
            it.allowance = limited ? chunk - q : 0;
            it.month = month;
            it.lastUsed = ctx.sim.now;
            ownedIn(scope).add(k);
          },
          indexed: true,
        },
        entry(ctx, req, holder, month),
        ...sourcesFor(ctx, c, req, holder, limited, month, chunk * (1 + prefill.length)),
        ...extra,
        ...prefill,
      ];
      noteScope(holder, scope);
      const r = yield* ctx.db.transact(writes, 'request');
      if (r.ok) {
        s.lane = { item: lane, balance: chunk - q, allowance: limited ? chunk - q : 0, month };
        return 'ok';
      }
      if (r.seen[0]) continue; // taken meanwhile: the next lane
      if (extra.length && r.reasons[3 + (limited ? 1 : 0)] !== 'none') return 'busy';
      if (prefill.some((_, i) => r.seen[writes.length - prefill.length + i])) return 'busy';
      if (r.seen[2] || r.seen[3]) {
        if ((yield* afterShortSource(ctx, r, 2, chunk, c, req, holder, limited, month)) === 'again') return 'busy';
        s.refillAfter = ctx.sim.now + 200;
        return 'short';
      }
      return 'busy';
    }
    return 'busy';
  }

  /** A debit on this container's own lane, with a refill when the lane runs low. */
  function* onLane(
    ctx: Ctx,
    c: Container<LanesState>,
    s: ScopeState,
    scope: string,
    req: Debit,
    holder: string,
    limited: boolean,
    month: number,
    extra: Write[] = [],
  ): Proc<'ok' | 'lost' | 'dry' | 'busy' | 'extra-short' | 'extra-busy'> {
    const lane = s.lane!;
    const extraFailed = (r: TxResult, at: number) =>
      extra.length && r.reasons[at] !== 'none' ? (r.reasons[at] === 'condition' ? 'extra-short' : 'extra-busy') : undefined;
    const q = req.q;
    const now = ctx.sim.now;
    if (limited && lane.month !== month) {
      // The month turned: the lane's allowance was the old month's. Give the lane back.
      yield* release(ctx, scope, lane.item, 'request', c.id);
      s.lane = undefined;
      return 'lost';
    }
    const low = Math.min(lane.balance, limited ? lane.allowance : Number.POSITIVE_INFINITY);
    const laneWrite = (add: number): Write => ({
      item: lane.item,
      check: (it) =>
        it.owner === c.id && !it.flag && it.balance + add >= q && (!limited || (it.month === month && it.allowance + add >= q)),
      apply: (it) => {
        it.balance += add - q;
        if (limited) it.allowance += add - q;
        it.lastUsed = ctx.sim.now;
      },
      indexed: false,
    });
    if (low - q < s.rate * ctx.opts.refillLeadSeconds && now >= s.refillAfter) {
      const available = R === 1 ? reserveOf(ctx, holder).balance : reserveOf(ctx, holder).balance / R;
      const chunk = chunkFor(ctx, s, q, available, scope);
      const sources = sourcesFor(ctx, c, req, holder, limited, month, chunk);
      const r = yield* ctx.db.transact([laneWrite(chunk), entry(ctx, req, holder, month), ...sources, ...extra], 'request');
      if (r.ok) {
        lane.balance += chunk - q;
        if (limited) lane.allowance += chunk - q;
        return 'ok';
      }
      if (r.seen[0]) {
        s.lane = undefined;
        return 'lost';
      }
      const bad = extraFailed(r, 2 + sources.length);
      if (bad) return bad;
      let short = false;
      if (r.seen[2] || r.seen[3]) {
        short = (yield* afterShortSource(ctx, r, 2, chunk, c, req, holder, limited, month)) === 'short';
        if (short) s.refillAfter = ctx.sim.now + 200;
        else if (low < q) return 'busy';
      } else {
        // A conflict or a throttle on the source: let it cool before this lane tries again.
        s.refillAfter = ctx.sim.now + 50 + ctx.rng.uniform() * 100;
      }
      if (low < q) return short ? 'dry' : 'busy';
      // The lane still has enough: debit it alone.
    } else if (low < q) return 'dry';
    const r = yield* ctx.db.transact([laneWrite(0), entry(ctx, req, holder, month), ...extra], 'request');
    if (r.ok) {
      lane.balance -= q;
      if (limited) lane.allowance -= q;
      return 'ok';
    }
    if (r.seen[0]) {
      s.lane = undefined;
      return 'lost';
    }
    return extraFailed(r, 2) ?? 'busy';
  }

  /**
   * A debit found too few credits (or too little allowance) where it looked. Collect what is set
   * aside (unless this container just did and found nothing), then judge by reading everything
   * that can hold them: the reserve (or the month's LIMIT item), its shards and the lanes. Once
   * the reserve is collapsed and the shards emptied, lanes only shrink, so a read that is not one
   * atomic cut still over-counts: a refusal on it is safe. Undefined: go again.
   */
  function* judgeShort(
    ctx: Ctx,
    st: LanesState,
    req: Debit,
    holder: string,
    scope: string,
    kind: 'limit' | 'credits',
    month: number,
    collapsed: boolean,
  ): Proc<Answer | undefined> {
    const memo = `${kind}:${kind === 'limit' ? scope : holder}`;
    const last = st.collected.get(memo);
    // Already collapsed: another request is collecting (or did); only read.
    const root = kind === 'limit' ? monthLimit(ctx, req.sub, month) : reserveOf(ctx, holder);
    if (root.flag && last === undefined) st.collected.set(memo, ctx.sim.now);
    else if (last === undefined || ctx.sim.now - last > MEMO_MS) {
      const found = kind === 'limit' ? yield* collect(ctx, holder, scope) : yield* collect(ctx, holder, undefined, collapsed);
      if (found > 0) return undefined;
      st.collected.set(memo, ctx.sim.now);
    }
    const scopes = kind === 'limit' ? [scope] : [...(scopesOf.get(holder) ?? [])];
    let lanes = 0;
    for (const sc of scopes) lanes += ownedIn(sc).size;
    yield* ctx.db.read(readLatencyMs(ctx.rng, 1 + Math.ceil((R + lanes) / 100)));
    const field: Field = kind === 'limit' ? 'allowance' : 'balance';
    let sum = kind === 'limit' ? monthLimit(ctx, req.sub, month).allowance : reserveOf(ctx, holder).balance;
    if (kind === 'limit' ? shardsAllowance(req.sub) : R > 1) {
      for (let j = 0; j < R; j++) {
        sum += (kind === 'limit' ? allowanceShard(ctx, req.sub, month, j) : creditSource(ctx, holder, j))[field];
      }
    }
    for (const sc of scopes) for (const k of ownedIn(sc)) sum += laneOf(ctx, sc, holder, k)[field];
    if (sum >= req.q) {
      // Enough is left, in shards or lanes: go through a lane of this scope (it draws on the shards).
      st.collected.delete(memo);
      scopeState(st, scope, ctx.sim.now).hotUntil = ctx.sim.now + HOT_MS;
      return undefined;
    }
    const truth = ctx.world.truth(req.sub, holder, month);
    yield* storeRefusal(ctx, req, ctx.opts.entryShards);
    return kind === 'limit'
      ? refusal('credit_limit_reached', truth)
      : refusal('insufficient_credits', truth, truth[0] - reserveOf(ctx, holder).balance);
  }

  const backoff = (ctx: Ctx, round: number) => ctx.rng.uniform() * Math.min(5 * 2 ** round, 200);

  const design: Design<LanesState> = {
    name,
    title: tuning.chunksAsBuilt
      ? `container-owned escrow lanes as built: one reserve, chunks grow with the lanes open${
          tuning.prefilledLanes ? `, a claim fills up to ${tuning.prefilledLanes} lanes ahead` : ''
        }`
      : R === 1 && !tuning.quietLimitedOnPoolLane
        ? 'container-owned escrow lanes, adaptive (as specified)'
        : `escrow lanes fed by ${R} reserve shards${tuning.quietLimitedOnPoolLane ? ', quiet limits on the pool lane' : ''}`,

    setup(ctx, initial) {
      for (const [holder, credits] of initial) {
        const it = reserveOf(ctx, holder);
        it.exists = true;
        it.version = 1;
        it.balance = credits;
        ctx.db.credits.set(holder, credits);
        ctx.world.addCredits(holder, credits);
      }
    },

    newContainer: () => ({
      id: nextContainer++,
      accounts: new Map(),
      reserves: new Map(),
      scopes: new Map(),
      collected: new Map(),
    }),

    *debit(ctx, c, req) {
      const st = c.state;
      const hint = yield* accountHint(ctx, st.accounts, req.sub);
      const holder = hintHolder(req.sub, hint);
      const limited = hintLimited(hint);
      const scope = scopeOf(req.sub, hint);
      const fresh = !st.scopes.has(scope);
      const s = scopeState(st, scope, ctx.sim.now);
      noteUse(s, req.q, ctx.sim.now);
      if (fresh) {
        // First use in this container: a balance that already has lanes is hot (one Query of the lane index).
        yield* ctx.db.read(readLatencyMs(ctx.rng));
        if (ownedIn(scope).size) s.hotUntil = ctx.sim.now + HOT_MS;
        if (limited && tuning.quietLimitedOnPoolLane && !st.scopes.has(holder) && ownedIn(holder).size) {
          scopeState(st, holder, ctx.sim.now).hotUntil = ctx.sim.now + HOT_MS;
        }
      }

      for (let round = 1; round <= MAX_ROUNDS && req.deadline - ctx.sim.now > 250; round++) {
        const month = ctx.world.month;
        // This container just found nothing set aside for this limit or balance: judge by reading.
        const memo = limited ? st.collected.get(`limit:${scope}`) : st.collected.get(`credits:${holder}`);
        if (memo !== undefined && ctx.sim.now - memo <= MEMO_MS && !s.lane) {
          const answer = yield* judgeShort(ctx, st, req, holder, scope, limited ? 'limit' : 'credits', month, true);
          if (answer) return answer;
        }
        if (s.lane) {
          const out = yield* onLane(ctx, c, s, scope, req, holder, limited, month);
          if (out === 'ok') return { status: 201 } as Answer;
          if (out === 'dry' && s.lane) {
            // Less than q left and nothing to refill from: give the rest back and go direct.
            yield* release(ctx, scope, s.lane.item, 'request', c.id);
            s.lane = undefined;
          }
          if (out === 'busy') yield backoff(ctx, round);
          continue;
        }
        // A limited sub-account's own lanes, when its LIMIT item is hot.
        let shortOnOwn = false;
        if (s.hotUntil > ctx.sim.now && ctx.sim.now >= s.refillAfter) {
          const got = yield* claim(ctx, c, s, scope, req, holder, limited, month);
          if (got === 'ok') return { status: 201 } as Answer;
          if (got === 'busy') {
            yield backoff(ctx, round);
            continue;
          }
          shortOnOwn = true;
        }
        // Variant: a limited sub-account without a lane of its own uses the container's pool lane and its LIMIT item.
        const ps = limited && tuning.quietLimitedOnPoolLane ? scopeState(st, holder, ctx.sim.now) : undefined;
        const limitWrite = (): Write => ({
          item: monthLimit(ctx, req.sub, month),
          check: (it) => it.allowance >= req.q,
          apply: take('allowance', req.q),
        });
        if (ps?.lane) {
          const out = yield* onLane(ctx, c, ps, holder, req, holder, false, month, [limitWrite()]);
          if (out === 'ok') return { status: 201 } as Answer;
          if (out === 'extra-short') {
            const answer = yield* judgeShort(ctx, st, req, holder, scope, 'limit', month, false);
            if (answer) return answer;
            continue;
          }
          if (out === 'extra-busy' && !shortOnOwn) s.hotUntil = ctx.sim.now + HOT_MS;
          if (out === 'dry' && ps.lane) {
            yield* release(ctx, holder, ps.lane.item, 'request', c.id);
            ps.lane = undefined;
          }
          if (out !== 'lost') yield backoff(ctx, round);
          continue;
        }
        if (ps && ps.hotUntil > ctx.sim.now && ctx.sim.now >= ps.refillAfter) {
          const got = yield* claim(ctx, c, ps, holder, req, holder, false, month, [limitWrite()]);
          if (got === 'ok') return { status: 201 } as Answer;
          if (got === 'busy') {
            yield backoff(ctx, round);
            continue;
          }
        }
        const r = yield* direct(ctx, st, req, holder, limited, month);
        if (r.ok) return { status: 201 } as Answer;
        const reserveSeen = r.seen[0];
        const limitSeen = limited ? r.seen[2] : undefined;
        const short =
          limitSeen && limitSeen.allowance < req.q ? 'limit' : reserveSeen && reserveSeen.balance < req.q ? 'credits' : undefined;
        if (short) {
          const answer = yield* judgeShort(ctx, st, req, holder, scope, short, month, Boolean(reserveSeen?.flag));
          if (answer) return answer;
          continue;
        }
        // Contention (a moved version, a conflict, a throttle): take a lane of this scope (with a
        // quiet limited sub-account, of the pool unless it is its LIMIT item that is contended).
        if (ps && r.reasons[2] === 'none') {
          ps.hotUntil = ctx.sim.now + HOT_MS;
          if (!reserveSeen?.flag && ctx.sim.now >= ps.refillAfter) {
            const got = yield* claim(ctx, c, ps, holder, req, holder, false, month, [limitWrite()]);
            if (got === 'ok') return { status: 201 } as Answer;
          }
          yield backoff(ctx, round);
          continue;
        }
        s.hotUntil = ctx.sim.now + HOT_MS;
        if (!reserveSeen?.flag && ctx.sim.now >= s.refillAfter) {
          const got = yield* claim(ctx, c, s, scope, req, holder, limited, month);
          if (got === 'ok') return { status: 201 } as Answer;
        }
        yield backoff(ctx, round);
      }
      return { status: 503 } as Answer;
    },

    *topUp(ctx, holder, amount) {
      const reserve = reserveOf(ctx, holder);
      for (let seq = 0; ; seq++) {
        const v = reserve.version;
        const r = yield* ctx.db.transact(
          [
            {
              item: reserve,
              check: (it) => it.version === v,
              apply: (it) => {
                it.balance += amount;
                it.version++;
                if (it.balance >= tuning.uncollapseCredits) it.flag = false;
              },
            },
            creditEntryWrite(ctx, holder, amount, ctx.opts.entryShards, seq),
          ],
          'background',
        );
        if (r.ok) return;
        yield ctx.rng.uniform() * 10 * Math.min(seq + 1, 10);
      }
    },

    *switchMode(ctx, sub, mode) {
      const wasScope = sub.mode === 'manual' && sub.limit > 0 ? `L${sub.id}` : undefined;
      yield* switchModeByTtl(ctx, sub, mode, function* () {
        if (wasScope) yield* collect(ctx, POOL, wasScope);
      });
    },

    *changeLimit(ctx, sub, limit) {
      for (let i = 0; i < 50; i++) {
        const item = monthLimit(ctx, sub, ctx.world.month);
        const delta = limit - item.limit;
        const r = yield* ctx.db.write(
          {
            item,
            check: (it) => it.allowance + delta >= 0,
            apply: (it) => {
              it.allowance += delta;
              it.limit = limit;
              it.flag = false;
              sub.limit = limit;
            },
          },
          'background',
        );
        if (r === 'ok') return;
        if (r === 'condition') yield* collect(ctx, POOL, `L${sub.id}`);
        else yield ctx.rng.uniform() * 20;
      }
    },

    *rollover() {
      // Lanes of limited sub-accounts carry their month; each owner gives its lane back on its next debit.
    },

    start(ctx) {
      aggregator = new Aggregator(ctx);
      aggregator.start();
      const sweep = () => {
        ctx.sim.spawn(
          (function* () {
            const cutoff = ctx.sim.now - ctx.opts.laneLeaseMs;
            const stale: [string, Item][] = [];
            for (const [holder, scopes] of scopesOf) {
              for (const scope of scopes) {
                for (const k of ownedIn(scope)) {
                  const lane = laneOf(ctx, scope, holder, k);
                  if (lane.lastUsed < cutoff) stale.push([scope, lane]);
                }
              }
            }
            yield* ctx.db.read(readLatencyMs(ctx.rng, 1 + Math.ceil(stale.length / 100)));
            for (const [scope, lane] of stale) ctx.sim.spawn(release(ctx, scope, lane, 'background', lane.owner, lane.lastUsed));
          })(),
        );
        ctx.sim.after(ctx.opts.sweepEveryMs, sweep);
      };
      ctx.sim.after(ctx.opts.sweepEveryMs, sweep);
    },
  };
  return design;
}
