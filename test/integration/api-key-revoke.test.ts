/**
 * Revoking an API key right after creating it (issue 8): the key is found by id with a strongly
 * consistent read, never on the eventually consistent index. DynamoDB Local updates its
 * indexes at once, so the index's lag on AWS is injected: an observer on the handlers' client
 * answers every index query from a view that has not caught up (no items).
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dynamo } from '#db/client';
import { handler as creditsHandler } from '../../functions/http/credits';
import { handler as identityHandler } from '../../functions/http/identity';
import { type AgencyFixture, api, signUpAgency } from '../support/api';
import { invoke } from '../support/invoke';

let agency: AgencyFixture;
beforeAll(async () => {
  agency = await signUpAgency('pro');
});

const lag = 'index-not-caught-up';
afterEach(() => {
  dynamo.middlewareStack.remove(lag);
});

/** Every Query on an index sees nothing yet, as right after a write on AWS. */
function indexLags() {
  let queries = 0;
  dynamo.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'QueryCommand' && (args.input as { IndexName?: string }).IndexName) {
        queries++;
        return { output: { Items: [], Count: 0, ScannedCount: 0, $metadata: {} }, response: {} } as never;
      }
      return next(args);
    },
    { step: 'initialize', name: lag },
  );
  return { queries: () => queries };
}

const create = () => invoke(identityHandler, 'POST /v1/api-keys', { token: agency.token, body: { name: 'just made' } });
const revoke = (apiKeyId: string) =>
  invoke(identityHandler, 'DELETE /v1/api-keys/{apiKeyId}', { token: agency.token, params: { apiKeyId } });
const balanceWith = (key: string) => invoke(creditsHandler, 'GET /v1/credits/balance', { token: key });

describe('revoking a key just created', () => {
  it('succeeds every time while the index has not caught up, and the key stops working at once', async () => {
    const index = indexLags();
    for (let i = 0; i < 10; i++) {
      const created = await create();
      expect(created.status).toBe(201);
      expect((await balanceWith(created.body.key)).status).toBe(200);
      const before = index.queries();
      expect((await revoke(created.body.id)).status).toBe(204);
      // It never asked the index (which answers nothing here).
      expect(index.queries()).toBe(before);
      expect((await balanceWith(created.body.key)).status).toBe(401);
      expect((await revoke(created.body.id)).status).toBe(404);
    }
  });

  it('over HTTP, create then revoke at once, in a loop', async () => {
    for (let i = 0; i < 10; i++) {
      const created = await api('POST', '/v1/api-keys', { token: agency.token, body: { name: `loop ${i}` } });
      expect(created.status).toBe(201);
      expect((await api('DELETE', `/v1/api-keys/${created.body.id}`, { token: agency.token })).status).toBe(204);
      expect((await api('GET', '/v1/credits/balance', { token: created.body.key })).status).toBe(401);
    }
    const listed = await api('GET', '/v1/api-keys', { token: agency.token });
    expect(listed.body.items.filter((k: { name: string }) => k.name.startsWith('loop '))).toEqual([]);
  });

  it("is 404 for another agency's key, which keeps working", async () => {
    const other = await signUpAgency('pro');
    const theirs = await api('POST', '/v1/api-keys', { token: other.token, body: { name: 'theirs' } });
    expect((await revoke(theirs.body.id)).status).toBe(404);
    expect((await api('GET', '/v1/credits/balance', { token: theirs.body.key })).status).toBe(200);
  });
});
