import fc from 'fast-check';

/**
 * What the interleavings model (test/integration/ledger-interleavings.test.ts) does to one
 * agency: groups of commands, each group run all at once under fast-check's scheduler, the
 * next group once every command of the one before has its final answer.
 *
 * The world: the agency (plan `agency`) and three sub-accounts. Sub 0 is manual with a monthly
 * limit, sub 1 manual without one (it draws on the pool with the agency's own usage), sub 2
 * reselling with a wallet; mode switches, limit changes and a close move them around.
 */
export const SUBS = 3;

/**
 * Where a request is served: the test's own containers 0–2 (support/containers.ts: faults and
 * ordering reach inside them) or 3, the shared test stack's gateway (another process, at its
 * own pace).
 */
export type Via = 0 | 1 | 2 | 3;
export const STACK: Via = 3;
export const IN_PROCESS: Via[] = [0, 1, 2];

/** The agency itself, or a sub-account by index. */
export type Who = 'agency' | number;
/** A balance: the pool, or a sub-account's wallet by index. */
export type BalanceRef = 'pool' | number;

/**
 * Where a fault may strike, by what the DynamoDB call writes (calls.ts classifies each call):
 * a debit of the balance item itself or a top-up's or grant's move (`balance`), a lane claimed
 * (funded, with its first debit), a lane's own debit, a refill riding on a debit, a lane closed
 * (its credits back: between two closes of a collect or a sweep), the remembered refusal, a
 * fence moved, an account written (a PATCH or close, before the lanes its old standing allowed
 * close), or any read.
 */
export type FaultPoint =
  | 'balance'
  | 'claim'
  | 'laneDebit'
  | 'refill'
  | 'freezeLane'
  | 'closeLane'
  | 'refusal'
  | 'fence'
  | 'account'
  | 'read';

/**
 * `before`: the call never reaches DynamoDB; `after`: it was applied and its answer is lost.
 * Either way the container sees a network error (its request answers 503 and the client
 * retries with the same key); `crash`: the container is gone from then on (its lanes orphaned,
 * its clients retry elsewhere).
 */
export interface Fault {
  point: FaultPoint;
  when: 'before' | 'after';
  crash: boolean;
}

interface Sent {
  via: Via;
  /** Where the client retries after a 503 (or a crashed container). */
  retryVia: Via;
  fault?: Fault;
}

export type Command =
  | ({ kind: 'debit'; who: Who; quantity: number; type: 'ai_response' | 'campaign_message' } & Sent)
  /** Alone in its group: everything the target has left (less `leave`), so lanes elsewhere must be collected, never a 402. */
  | ({ kind: 'drain'; who: Who; leave: number } & Sent)
  | ({ kind: 'topUp'; credits: number } & Sent)
  | ({ kind: 'grant'; sub: number; credits: number } & Sent)
  | ({ kind: 'limit'; sub: number; limit: number | null } & Sent)
  | ({ kind: 'mode'; sub: number; mode: 'manual' | 'reselling' } & Sent)
  | ({ kind: 'close'; sub: number } & Sent)
  /** The same request as an earlier (or concurrent) one, with its key: a client's redelivery. */
  | { kind: 'replay'; pick: number; via: Via }
  | { kind: 'read'; balance: BalanceRef; via: Via }
  /** closeLanes on a balance, from outside (what a collect or a fence does), beside the debits. */
  | { kind: 'collect'; balance: BalanceRef; fault?: Fault }
  /** Alone in its group: the clock moves past every lease, then the sweeper's pass over each balance. */
  | { kind: 'sweep'; fault?: Fault }
  /** The stream's usage records read so far handed to the rollups again, whole and in halves. */
  | { kind: 'redeliver' };
// A batch of debits (POST /v1/usage/batch, branch wip-i19-batch) is one more command here:
// `{ kind: 'batch'; events: {who, quantity, type}[] } & Sent`, sent by execute.ts `execute` as
// one request (its own key per event) whose results are each recorded as a debit (a
// history.ts `MoneyRequest` per event, with the request's attempts: each result's status and
// body as the attempt's), so every check (answers.ts, table.ts) applies to each event as is.

export type Group = Command[];
export interface Plan {
  /** Let the scheduler release a call while others are in flight (real overlap: TransactionConflicts), or only once all are parked. */
  overlap: boolean;
  pool: number;
  limit: number;
  wallet: number;
  groups: Group[];
}

const via = fc.constantFrom<Via>(0, 1, 2, 3);
const inProcess = fc.constantFrom<Via>(0, 1, 2);
const sub = fc.integer({ min: 0, max: SUBS - 1 });
const who: fc.Arbitrary<Who> = fc.oneof(fc.constant('agency' as const), sub);
const balanceRef: fc.Arbitrary<BalanceRef> = fc.oneof(fc.constant('pool' as const), sub);

const faultAt = (points: FaultPoint[], freq = 4) =>
  fc.option(
    fc.record({
      point: fc.constantFrom(...points),
      when: fc.constantFrom('before' as const, 'after' as const),
      crash: fc.oneof({ weight: 1, arbitrary: fc.constant(true) }, { weight: 4, arbitrary: fc.constant(false) }),
    }),
    { freq, nil: undefined },
  );

const DEBIT_FAULTS: FaultPoint[] = ['balance', 'claim', 'laneDebit', 'refill', 'freezeLane', 'closeLane', 'refusal', 'read'];
const MOVE_FAULTS: FaultPoint[] = ['balance', 'freezeLane', 'closeLane', 'refusal'];
const STANDING_FAULTS: FaultPoint[] = ['account', 'fence', 'freezeLane', 'closeLane'];

/** Sent somewhere, retried somewhere; a fault (one in `freq`) only where it can strike (the test's own containers). */
const sent = (points: FaultPoint[], freq = 4) =>
  fc
    .record({ via, retryVia: via, fault: faultAt(points, freq) })
    .map((s) => (s.fault && s.via === STACK ? { ...s, via: (s.retryVia === STACK ? 0 : s.retryVia) as Via } : s));

const quantity = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 6 }) },
  { weight: 1, arbitrary: fc.integer({ min: 20, max: 400 }) },
);
const usageType = fc.constantFrom('ai_response' as const, 'campaign_message' as const);

const debit = fc
  .tuple(who, quantity, usageType, sent(DEBIT_FAULTS))
  .map(([w, q, type, s]): Command => ({ kind: 'debit', who: w, quantity: q, type, ...s }));

/**
 * Many small debits of one balance from every container at once: what makes a balance busy
 * in a container (moved versions, conflicts) and so opens lanes (lanes.ts `noteContention`).
 */
const burstOn = (w: Who) =>
  fc
    .tuple(fc.integer({ min: 6, max: 12 }), fc.array(sent(DEBIT_FAULTS), { minLength: 12, maxLength: 12 }), usageType)
    .map(([n, sends, type]): Command[] =>
      Array.from({ length: n }, (_, i) => ({
        kind: 'debit',
        who: w,
        quantity: 1 + (i % 3),
        type,
        ...sends[i]!,
        // Spread over every container, whatever the draw: contention needs several.
        via: (i % 4) as Via,
        fault: i % 4 === STACK ? undefined : sends[i]!.fault,
      })),
    );
const burst = who.chain(burstOn);

const move: fc.Arbitrary<Command> = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 400 }), sent(MOVE_FAULTS))
    .map(([credits, s]) => ({ kind: 'topUp' as const, credits, ...s })),
  fc
    .tuple(sub, fc.integer({ min: 1, max: 200 }), sent(MOVE_FAULTS))
    .map(([i, credits, s]) => ({ kind: 'grant' as const, sub: i, credits, ...s })),
);

const other: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: move },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat(), via }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('read' as const), balance: balanceRef, via }) },
  {
    weight: 1,
    arbitrary: fc
      .record({ kind: fc.constant('collect' as const), balance: balanceRef, fault: faultAt(['freezeLane', 'closeLane']) })
      .map((c) => (c.fault ? { ...c, fault: { ...c.fault, crash: false } } : c)),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'redeliver' as const }) },
);

/** A change of what a sub-account's debits draw on, often struck by a fault between its steps. */
const changeOf = (i: number): fc.Arbitrary<Command> => {
  const struck = sent(STANDING_FAULTS, 2);
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.option(fc.integer({ min: 0, max: 150 }), { nil: null, freq: 3 }), struck)
        .map(([limit, s]) => ({ kind: 'limit' as const, sub: i, limit, ...s })),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(fc.constantFrom('manual' as const, 'reselling' as const), struck)
        .map(([mode, s]) => ({ kind: 'mode' as const, sub: i, mode, ...s })),
    },
    { weight: 1, arbitrary: struck.map((s) => ({ kind: 'close' as const, sub: i, ...s })) },
  );
};

/** A group: a burst on one balance (mostly), with moves, replays, reads, collects and single debits mixed in. */
const mixed: fc.Arbitrary<Group[]> = fc
  .tuple(
    fc.option(burst, { freq: 4 }),
    fc.array(fc.oneof({ weight: 2, arbitrary: debit }, { weight: 3, arbitrary: other }), { minLength: 2, maxLength: 6 }),
  )
  .map(([b, rest]) => [[...(b ?? []), ...rest]]);

/**
 * A sub-account busy in every container when its standing changes, then busy again once the
 * change has answered: every debit of the second group must meet the new standing, whatever
 * the containers remembered of the old one (and whatever fault struck the change).
 */
const switching: fc.Arbitrary<Group[]> = sub.chain((i) =>
  fc
    .tuple(burstOn(i), changeOf(i), fc.array(other, { maxLength: 2 }), burstOn(i))
    .map(([before, change, rest, after]) => [[...before, change, ...rest], after]),
);

const drain: fc.Arbitrary<Group[]> = fc
  .tuple(who, fc.integer({ min: 0, max: 2 }), inProcess, via)
  .map(([w, leave, v, r]) => [[{ kind: 'drain', who: w, leave, via: v, retryVia: r }]]);
const sweep: fc.Arbitrary<Group[]> = faultAt(['freezeLane', 'closeLane']).map((f) => [
  [{ kind: 'sweep', fault: f && { ...f, crash: false } }],
]);

/**
 * A run: the agency's opening balances, a first group that always bursts (so lanes open in
 * most runs), then mixed groups, standing changes on busy sub-accounts, drains and sweeps.
 */
export const planArb: fc.Arbitrary<Plan> = fc
  .record({
    overlap: fc.boolean(),
    pool: fc.integer({ min: 150, max: 1200 }),
    limit: fc.integer({ min: 10, max: 120 }),
    wallet: fc.integer({ min: 20, max: 200 }),
    first: burst,
    rest: fc.array(
      fc.oneof(
        { weight: 3, arbitrary: mixed },
        { weight: 2, arbitrary: switching },
        { weight: 2, arbitrary: drain },
        { weight: 1, arbitrary: sweep },
      ),
      { minLength: 2, maxLength: 4 },
    ),
  })
  .map(({ overlap, pool, limit, wallet, first, rest }) => ({ overlap, pool, limit, wallet, groups: [first, ...rest.flat()] }));
