/**
 * The audit records of the write routes beyond sub-accounts and API keys (issue 23, part 2):
 * campaigns, reselling settings, webhook endpoints, identity (sign-up, login, logout, assist,
 * email verification, password reset) and the platform's agency changes. What changed is
 * recorded before and after, where the write changes fields; who is the caller (the agency user
 * behind an assist session with the sub-account assisted; the platform for its own routes).
 * That every write route leaves exactly one record of its action, by its caller, is
 * write-controls.test.ts's; that none holds a secret and that a failed transaction leaves
 * neither, audit-log.test.ts's.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AgencyFixture,
  api,
  assistToken,
  createSubAccount,
  type SubAccountFixture,
  setAgency,
  signUpAgency,
  tokenFromEmail,
} from '../support/api';
import { expectStatus } from '../support/ledger';
import { auditRecordsOf } from '../support/table';

type AuditRecord = {
  id: string;
  action: string;
  target: { type: string; id: string };
  actor: Record<string, string>;
  changes: Array<{ field: string; before: unknown; after: unknown }>;
};

let agency: AgencyFixture;
let client: SubAccountFixture;

beforeAll(async () => {
  agency = await signUpAgency('agency');
  client = await createSubAccount(agency.token);
}, 120_000);

const recordsOf = async (target: string, token = agency.token): Promise<AuditRecord[]> =>
  expectStatus(await api('GET', `/v1/audit-log?target=${target}`, { token }), 200, 'audit log').body.items;
const user = () => ({ type: 'user', userId: agency.userId });

describe('campaigns', () => {
  it("records a change to a client's own JSON whatever its keys (an empty key is no attribute name DynamoDB takes)", async () => {
    const path = `/v1/accounts/${client.subAccountId}/campaigns`;
    const made = expectStatus(await api('POST', path, { token: agency.token, body: { name: 'Keys' } }), 201).body.campaign;
    const settings = { '': 1, nested: { '': null } };
    expectStatus(await api('PATCH', `${path}/${made.id}`, { token: agency.token, body: { settings } }), 200);
    const [updated] = await recordsOf(made.id);
    expect(updated!.changes).toEqual([{ field: 'settings', before: {}, after: settings }]);
  });

  it('records an update (before and after), a copy (where from) and a delete; an assisted change names the agency user', async () => {
    const path = `/v1/accounts/${client.subAccountId}/campaigns`;
    const made = expectStatus(await api('POST', path, { token: agency.token, body: { name: 'Spring' } }), 201).body.campaign;
    const assist = await assistToken(agency.token, client.subAccountId);
    expectStatus(
      await api('PATCH', `${path}/${made.id}`, { token: assist, body: { name: 'Summer', instructions: 'Be brief' } }),
      200,
    );
    // The same content again changes nothing: no record.
    expectStatus(await api('PATCH', `${path}/${made.id}`, { token: agency.token, body: { name: 'Summer' } }), 200);
    // A long value is recorded by its size, not copied into the log.
    const long = 'x'.repeat(5000);
    expectStatus(await api('PATCH', `${path}/${made.id}`, { token: agency.token, body: { instructions: long } }), 200);
    const copied = expectStatus(
      await api('POST', `${path}/${made.id}/copy`, { token: agency.token, body: { targetAccountId: client.subAccountId } }),
      201,
    ).body.campaign;
    expectStatus(await api('DELETE', `${path}/${made.id}`, { token: agency.token }), 204);

    const records = await recordsOf(made.id);
    expect(records.map((r) => [r.action, r.actor])).toEqual([
      ['campaign.deleted', user()],
      ['campaign.updated', user()],
      ['campaign.updated', { type: 'assist', userId: agency.userId, assistedAccountId: client.subAccountId }],
      ['campaign.created', user()],
    ]);
    const [deleted, lengthened, assisted] = records;
    expect(assisted!.changes).toEqual([
      { field: 'name', before: 'Spring', after: 'Summer' },
      { field: 'instructions', before: '', after: 'Be brief' },
    ]);
    expect(lengthened!.changes).toEqual([
      { field: 'instructions', before: 'Be brief', after: { omitted: 'too long to record', bytes: 5002 } },
    ]);
    expect(deleted!.changes).toEqual([{ field: 'name', before: 'Summer', after: null }]);
    const [copy] = await recordsOf(copied.id);
    expect(copy).toMatchObject({
      action: 'campaign.copied',
      target: { type: 'campaign', id: copied.id },
      changes: [
        { field: 'name', before: null, after: 'Summer' },
        { field: 'copiedFrom', before: null, after: { campaignId: made.id, accountId: client.subAccountId } },
      ],
    });
  });
});

describe("the agency's settings", () => {
  it('records pricing, the first Stripe connection, and the auto-recharge endpoint (never its secret)', async () => {
    const connected = expectStatus(await api('POST', '/v1/reselling/stripe/connect', { token: agency.token }), 201).body;
    const pricing = { currency: 'usd', perCreditPrice: '15', packages: [{ name: 'Pack', credits: 100, price: 1500 }] };
    expectStatus(await api('PUT', '/v1/reselling/pricing', { token: agency.token, body: pricing }), 200);
    expectStatus(
      await api('PUT', '/v1/reselling/pricing', { token: agency.token, body: { ...pricing, perCreditPrice: '16' } }),
      200,
    );
    const endpoint = (url: string) => api('PUT', '/v1/reselling/auto-recharge-webhook', { token: agency.token, body: { url } });
    expectStatus(await endpoint('http://127.0.0.1:9/a'), 200);
    expectStatus(await endpoint('http://127.0.0.1:9/b'), 200);
    expectStatus(await api('POST', '/v1/reselling/auto-recharge-webhook/rotate-secret', { token: agency.token }), 200);
    expectStatus(await api('DELETE', '/v1/reselling/auto-recharge-webhook', { token: agency.token }), 204);
    // Deleting what is not there writes nothing, and records nothing.
    expectStatus(await api('DELETE', '/v1/reselling/auto-recharge-webhook', { token: agency.token }), 204);

    const settings = (await recordsOf(agency.agencyId)).filter((r) => r.action.startsWith('reselling.'));
    expect(settings.map((r) => [r.action, r.changes])).toEqual([
      ['reselling.pricing_updated', [{ field: 'perCreditPrice', before: '15', after: '16' }]],
      [
        'reselling.pricing_updated',
        [
          { field: 'currency', before: null, after: 'usd' },
          { field: 'perCreditPrice', before: null, after: '15' },
          { field: 'packages', before: null, after: [expect.objectContaining({ name: 'Pack', credits: 100, price: 1500 })] },
        ],
      ],
      ['reselling.stripe_account_connected', [{ field: 'stripeAccountId', before: null, after: connected.accountId }]],
    ]);
    expect((await recordsOf(agency.agencyId)).map((r) => [r.action, r.changes, r.actor])).toEqual(
      expect.arrayContaining([
        [
          'auto_recharge_webhook.created',
          [
            { field: 'url', before: null, after: 'http://127.0.0.1:9/a' },
            { field: 'enabled', before: null, after: true },
          ],
          user(),
        ],
        [
          'auto_recharge_webhook.updated',
          [{ field: 'url', before: 'http://127.0.0.1:9/a', after: 'http://127.0.0.1:9/b' }],
          user(),
        ],
        ['auto_recharge_webhook.secret_rotated', [], user()],
        [
          'auto_recharge_webhook.deleted',
          [
            { field: 'url', before: 'http://127.0.0.1:9/b', after: null },
            { field: 'enabled', before: true, after: null },
          ],
          user(),
        ],
      ]),
    );
    expect((await recordsOf(agency.agencyId)).filter((r) => r.action === 'auto_recharge_webhook.deleted')).toHaveLength(1);
  });

  it('records event webhook endpoints: created, updated (before and after), rotated, deleted', async () => {
    const made = expectStatus(
      await api('POST', '/v1/webhook-endpoints', {
        token: agency.token,
        body: { url: 'http://127.0.0.1:9/events', events: ['sub_account.created'] },
      }),
      201,
    ).body.endpoint;
    const path = `/v1/webhook-endpoints/${made.id}`;
    const patch = { events: ['sub_account.created', 'sub_account.closed'], description: 'CRM' };
    expectStatus(await api('PATCH', path, { token: agency.token, body: patch }), 200);
    expectStatus(await api('POST', `${path}/rotate-secret`, { token: agency.token }), 200);
    expectStatus(await api('DELETE', path, { token: agency.token }), 204);
    expect((await recordsOf(made.id)).map((r) => [r.action, r.changes])).toEqual([
      [
        'webhook_endpoint.deleted',
        [
          { field: 'url', before: 'http://127.0.0.1:9/events', after: null },
          { field: 'events', before: patch.events, after: null },
          { field: 'description', before: 'CRM', after: null },
          { field: 'enabled', before: true, after: null },
        ],
      ],
      ['webhook_endpoint.secret_rotated', []],
      [
        'webhook_endpoint.updated',
        [
          { field: 'events', before: ['sub_account.created'], after: patch.events },
          { field: 'description', before: null, after: 'CRM' },
        ],
      ],
      [
        'webhook_endpoint.created',
        [
          { field: 'url', before: null, after: 'http://127.0.0.1:9/events' },
          { field: 'events', before: null, after: ['sub_account.created'] },
          { field: 'enabled', before: null, after: true },
        ],
      ],
    ]);
  });
});

describe('identity', () => {
  it('records sign-up, verification, login, logout, assist and password reset, by the user they prove', async () => {
    const owner = await signUpAgency('starter', { verifyEmail: false });
    const verify = await tokenFromEmail(owner.email, /^Confirm your email/);
    expectStatus(await api('POST', '/v1/auth/verify-email', { body: { token: verify } }), 204);
    const login = expectStatus(
      await api('POST', '/v1/auth/login', { body: { email: owner.email, password: owner.password } }),
      200,
    ).body;
    // A failed login writes no record (the attempt window counts it; a record each would let anyone fill the log).
    expect((await api('POST', '/v1/auth/login', { body: { email: owner.email, password: 'wrong-password' } })).status).toBe(401);
    expectStatus(await api('POST', '/v1/auth/logout', { token: login.token }), 204);
    expectStatus(await api('POST', '/v1/auth/password-reset', { body: { email: owner.email } }), 202);
    const reset = await tokenFromEmail(owner.email, /^Reset your/);
    expectStatus(
      await api('POST', '/v1/auth/password-reset/confirm', { body: { token: reset, newPassword: `pw-${randomUUID()}` } }),
      204,
    );
    const records = (await auditRecordsOf(owner.agencyId)).reverse();
    const me = { type: 'user', userId: owner.userId };
    expect(records.map((r) => [r.action, r.target, r.actor])).toEqual([
      ['user.password_reset', { type: 'user', id: owner.userId }, me],
      ['user.password_reset_requested', { type: 'user', id: owner.userId }, { type: 'platform' }],
      ['user.logged_out', { type: 'user', id: owner.userId }, me],
      ['user.logged_in', { type: 'user', id: owner.userId }, me],
      ['agency.email_verified', { type: 'agency', id: owner.agencyId }, me],
      ['agency.created', { type: 'agency', id: owner.agencyId }, me],
    ]);
    expect(records.at(-1)!.changes).toEqual(
      expect.arrayContaining([
        { field: 'plan', before: null, after: 'starter' },
        { field: 'ownerUserId', before: null, after: owner.userId },
      ]),
    );
    expect(records[3]!.changes).toEqual([{ field: 'accountId', before: null, after: owner.agencyId }]);
  });

  it('records an assist session from start to end, and a client logging in to its agency', async () => {
    const assist = await assistToken(agency.token, client.subAccountId);
    expectStatus(await api('POST', '/v1/assist/exit', { token: assist }), 204);
    const records = await recordsOf(client.subAccountId);
    expect(records.slice(0, 2).map((r) => [r.action, r.actor])).toEqual([
      ['assist.ended', { type: 'assist', userId: agency.userId, assistedAccountId: client.subAccountId }],
      ['assist.started', user()],
    ]);
    const login = await api('POST', '/v1/auth/login', { body: { email: client.email, password: client.password } });
    expect(login.status).toBe(200);
    const clientUser = login.body.principal.userId as string;
    const [loggedIn] = await recordsOf(clientUser);
    expect(loggedIn).toMatchObject({
      action: 'user.logged_in',
      actor: { type: 'user', userId: clientUser },
      changes: [{ field: 'accountId', before: null, after: client.subAccountId }],
    });
  });

  it("records the platform's change of an agency's plan and status, by the platform", async () => {
    const other = await signUpAgency('starter', { verifyEmail: false });
    await setAgency(other.agencyId, { plan: 'pro', status: 'suspended' });
    const [record] = (await auditRecordsOf(other.agencyId)).reverse();
    expect(record).toMatchObject({
      action: 'agency.updated',
      target: { type: 'agency', id: other.agencyId },
      actor: { type: 'platform' },
    });
    expect(record!.changes.map((c: { field: string }) => c.field)).toEqual(['plan', 'status', 'features']);
    expect(record!.changes.slice(0, 2)).toEqual([
      { field: 'plan', before: 'starter', after: 'pro' },
      { field: 'status', before: 'active', after: 'suspended' },
    ]);
  });
});
