/**
 * An agency's in-flight slots (packages/db/items/webhook-slots.ts) against the local table:
 * never more holders than the cap however many senders race, a slot given back is free at
 * once, and a holder whose lease ran out (a sender that died) is replaced, never waited for.
 */
import '../support/stack'; // first: points this process at the local stack
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { releaseSlot, takeSlot } from '#db/items/webhook-slots';
import { uniq } from '../support/api';

const CAP = 5;
const MINUTE = 60_000;

describe('webhook slots', () => {
  it('20 senders racing for 5 slots: exactly 5 get one; a slot given back is taken by the next', async () => {
    const agency = uniq('agc');
    const now = Date.now();
    const tokens = Array.from({ length: 20 }, () => randomUUID());
    const took = await Promise.all(tokens.map((t) => takeSlot(agency, t, CAP, now, now + MINUTE)));
    expect(took.filter(Boolean)).toHaveLength(CAP);

    const holder = tokens[took.indexOf(true)]!;
    const waiting = tokens[took.indexOf(false)]!;
    expect(await takeSlot(agency, waiting, CAP, now, now + MINUTE)).toBe(false);
    await releaseSlot(agency, holder);
    await releaseSlot(agency, holder); // twice: nothing more to give back
    expect(await takeSlot(agency, waiting, CAP, now, now + MINUTE)).toBe(true);
    expect(await takeSlot(agency, randomUUID(), CAP, now, now + MINUTE)).toBe(false);
  });

  it("a holder whose lease ran out is replaced, once; its late give-back does not free the new holder's slot", async () => {
    const agency = uniq('agc');
    const now = Date.now();
    const dead = randomUUID();
    expect(await takeSlot(agency, dead, CAP, now, now + 1000)).toBe(true);
    for (let i = 1; i < CAP; i++) expect(await takeSlot(agency, randomUUID(), CAP, now, now + MINUTE)).toBe(true);
    expect(await takeSlot(agency, randomUUID(), CAP, now, now + MINUTE)).toBe(false);

    // Two seconds on, the first lease is over: two senders race for its place, one wins.
    const later = now + 2000;
    const racers = [randomUUID(), randomUUID()];
    const won = await Promise.all(racers.map((t) => takeSlot(agency, t, CAP, later, later + MINUTE)));
    expect(won.filter(Boolean)).toHaveLength(1);
    await releaseSlot(agency, dead); // the dead sender's give-back, late: its slot is another's now
    expect(await takeSlot(agency, randomUUID(), CAP, later, later + MINUTE)).toBe(false);
  });
});
