import { usageTypes } from '#domain/ledger/schemas';
import type { Move } from './mix';

export interface AnswerCheck {
  moves: number;
  byStatus: Record<string, number>;
  problems: string[];
}

const usage = new Set<string>(usageTypes);

/**
 * Each money-moving request against the table: a 201 wrote exactly its entries (a debit one,
 * a grant one on each side) for exactly its credits; a refusal (402, 409…) wrote none; a
 * request cut off unanswered at the end of the run wrote all of its entries or none.
 */
export function checkMoves(items: readonly Record<string, any>[], moves: readonly Move[]): AnswerCheck {
  const entries = new Map<string, Record<string, any>[]>();
  for (const e of items) {
    if (e.kind !== 'ledger_entry') continue;
    const op = usage.has(e.type) ? 'usage' : e.type;
    const k = `${op}|${e.accountId}|${e.idempotencyKey}`;
    entries.set(k, [...(entries.get(k) ?? []), e]);
  }
  const byStatus: Record<string, number> = {};
  const problems: string[] = [];
  for (const m of moves) {
    const status = m.status === undefined ? 'unanswered' : String(m.status);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    const found = entries.get(`${m.op}|${m.accountId}|${m.key}`) ?? [];
    const expected = m.op === 'usage' ? [`${-m.credits}`] : [`pool ${-m.credits}`, `wallet ${m.credits}`];
    const got = found.map((e) => (m.op === 'usage' ? `${e.credits}` : `${e.balanceKind} ${e.credits}`)).sort();
    const whole = JSON.stringify(got) === JSON.stringify(expected.sort());
    const ok = m.status === 201 ? whole : m.status === undefined ? whole || got.length === 0 : got.length === 0;
    if (!ok)
      problems.push(
        `${m.op} ${m.key} on ${m.accountId} answered ${status}: entries [${got.join(', ')}], expected [${m.status === 201 || m.status === undefined ? expected.join(', ') : ''}]`,
      );
  }
  return { moves: moves.length, byStatus, problems };
}
