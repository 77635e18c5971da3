/**
 * What authentication costs per request, measured on the DynamoDB client of this process: every
 * session and assist token is checked in ONE round trip (a BatchGet of the user, the token's
 * revocation and, for clients and assist, the sub-account), an API key in one GetItem. The
 * printed key counts are the strongly consistent reads each request kind pays.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '../../packages/db/client';
import { authenticate } from '../../packages/http/authenticate';
import { api, assistToken, createSubAccount, signUpAgency } from '../support/api';

const seen: { command: string; keys: number }[] = [];
dynamo.middlewareStack.add(
  (next, context) => async (args) => {
    const input = args.input as { RequestItems?: Record<string, { Keys: unknown[] }> };
    const keys = input.RequestItems ? Object.values(input.RequestItems).reduce((n, r) => n + r.Keys.length, 0) : 1;
    seen.push({ command: context.commandName ?? '?', keys });
    return next(args);
  },
  { step: 'initialize', name: 'count-auth-reads' },
);

async function cost(token: string) {
  seen.length = 0;
  const { principal } = await authenticate(`Bearer ${token}`);
  return { kind: principal.kind, calls: seen.map((s) => s.command), keys: seen.reduce((n, s) => n + s.keys, 0) };
}

let tokens: Record<string, string>;
beforeAll(async () => {
  const agency = await signUpAgency();
  const sub = await createSubAccount(agency.token);
  const key = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'cost' } });
  tokens = {
    agency_user: agency.token,
    sub_account_user: sub.token,
    assist: await assistToken(agency.token, sub.subAccountId),
    api_key: key.body.key,
  };
}, 60_000);

describe('authentication read cost', () => {
  it('checks every session or assist token in one BatchGet, and an API key in one GetItem', async () => {
    const costs = [];
    for (const [kind, token] of Object.entries(tokens)) {
      const c = await cost(token);
      expect(c.kind).toBe(kind);
      costs.push(c);
    }
    console.log(costs.map((c) => `${c.kind}: ${c.calls.join('+')} of ${c.keys} item(s)`).join('\n'));
    for (const c of costs) {
      expect(c.calls).toEqual([c.kind === 'api_key' ? 'GetItemCommand' : 'BatchGetItemCommand']);
      expect(c.keys).toBeLessThanOrEqual(4);
    }
  });
});
