/**
 * The audit log (issue 23, part 2): every audited write leaves one record in the transaction of
 * its change — who (user, API key, or the agency user behind an assist session and the
 * sub-account assisted), what (action, target, changed fields before and after), when, request
 * id and source IP — and never a secret. Over HTTP against the local stack, except where a fault
 * is injected into this process's SDK client (the handler runs here, a second "container"):
 * DynamoDB Local cannot be made to fail on demand.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '#domain/auth/api-keys';
import {
  type AgencyFixture,
  api,
  assistToken,
  createSubAccount,
  type SubAccountFixture,
  signUpAgency,
  tokenFromEmail,
  uniqueEmail,
} from '../support/api';
import { invoke } from '../support/invoke';
import { createSubAccountOnly, expectStatus, parseCsv } from '../support/ledger';
import { auditRecordsOf } from '../support/table';

type Handler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;
type AuditRecord = {
  id: string;
  action: string;
  target: { type: string; id: string };
  actor: Record<string, string>;
  changes: Array<{ field: string; before: unknown; after: unknown }>;
  requestId: string;
  sourceIp: string;
};

let agency: AgencyFixture;
let client: SubAccountFixture;

beforeAll(async () => {
  agency = await signUpAgency('pro');
  client = await createSubAccount(agency.token);
}, 120_000);

const log = async (query = '', token = agency.token): Promise<AuditRecord[]> =>
  expectStatus(await api('GET', `/v1/audit-log${query}`, { token }), 200, 'audit log').body.items;
const recordsOf = (target: string) => log(`?target=${target}`);

/** Every audit item of the agency, straight from its partition. */
describe('audited writes', () => {
  it('records a sub-account from creation to credentials: who, what, before and after, request id and source IP', async () => {
    const created = expectStatus(
      await api('POST', '/v1/sub-accounts', { token: agency.token, body: { name: 'Bloom', email: uniqueEmail('bloom') } }),
      201,
    );
    const id: string = created.body.subAccount.id;
    const user = { type: 'user', userId: agency.userId };
    expectStatus(
      await api('PATCH', `/v1/sub-accounts/${id}`, {
        token: agency.token,
        body: { name: 'Bloom & Co', monthlyCreditLimit: 300 },
      }),
      200,
    );
    const key = expectStatus(await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'crm' } }), 201).body;
    expectStatus(await api('PATCH', `/v1/sub-accounts/${id}`, { token: key.key, body: { features: ['campaigns'] } }), 200);
    // A change to what it already is changes nothing: no record.
    expectStatus(await api('PATCH', `/v1/sub-accounts/${id}`, { token: agency.token, body: { name: 'Bloom & Co' } }), 200);
    expectStatus(await api('POST', `/v1/sub-accounts/${id}/credentials`, { token: agency.token }), 201);
    expectStatus(await api('DELETE', `/v1/sub-accounts/${id}`, { token: agency.token }), 204);
    expectStatus(await api('POST', `/v1/sub-accounts/${id}/reopen`, { token: agency.token }), 200);

    const records = await recordsOf(id);
    expect(records.map((r) => [r.action, r.actor])).toEqual([
      ['sub_account.reopened', user],
      ['sub_account.closed', user],
      ['sub_account.credentials_issued', user],
      ['sub_account.updated', { type: 'api_key', apiKeyId: key.id }],
      ['sub_account.updated', user],
      ['sub_account.created', user],
    ]);
    const [reopened, closed, credentials, byKey, renamed, born] = records as [AuditRecord, ...AuditRecord[]] & AuditRecord[];
    expect(renamed!.changes).toEqual([
      { field: 'name', before: 'Bloom', after: 'Bloom & Co' },
      { field: 'monthlyCreditLimit', before: null, after: 300 },
    ]);
    expect(byKey!.changes).toEqual([
      { field: 'features', before: ['campaigns', 'ai_bot', 'api_access', 'usage_export'], after: ['campaigns'] },
    ]);
    expect(born!.changes).toContainEqual({ field: 'name', before: null, after: 'Bloom' });
    expect(credentials!.changes).toEqual([]);
    expect(closed!.changes).toEqual([{ field: 'status', before: 'active', after: 'closed' }]);
    expect(reopened!.changes).toEqual([
      { field: 'status', before: 'closed', after: 'active' },
      { field: 'clientLogin', before: true, after: false },
    ]);
    for (const r of records) {
      expect(r.target).toEqual({ type: 'sub_account', id });
      expect(r.requestId).not.toBe('');
      expect(r.sourceIp).toMatch(/127\.0\.0\.1/);
    }

    // The filters: action, actor, and a time range that ends before any of them.
    expect((await log(`?target=${id}&action=sub_account.updated`)).map((r) => r.id)).toEqual([byKey!.id, renamed!.id]);
    expect((await log(`?actor=${key.id}`)).map((r) => r.id)).toEqual([byKey!.id]);
    expect(await log(`?target=${id}&to=2020-01-01`)).toEqual([]);
    // API keys are audited by id and name.
    expect((await recordsOf(key.id)).map((r) => [r.action, r.changes])).toEqual([
      ['api_key.created', [{ field: 'name', before: null, after: 'crm' }]],
    ]);
  });

  it("records the agency's settings: low-balance alerts and auto top-up", async () => {
    expectStatus(await api('PUT', '/v1/credits/alerts', { token: agency.token, body: { poolBelow: 100 } }), 200);
    expectStatus(await api('PUT', '/v1/credits/alerts', { token: agency.token, body: { poolBelow: 50, walletBelow: 5 } }), 200);
    const body = { enabled: false, threshold: 200, credits: 1000 };
    expectStatus(await api('PUT', '/v1/credits/auto-top-up', { token: agency.token, body }), 200);
    const records = (await log(`?target=${agency.agencyId}`)).filter((r) => /^(alerts|auto_top_up)\./.test(r.action));
    expect(records.map((r) => [r.action, r.changes])).toEqual([
      [
        'auto_top_up.updated',
        [
          { field: 'threshold', before: null, after: 200 },
          { field: 'credits', before: null, after: 1000 },
        ],
      ],
      [
        'alerts.updated',
        [
          { field: 'poolBelow', before: 100, after: 50 },
          { field: 'walletBelow', before: null, after: 5 },
        ],
      ],
      ['alerts.updated', [{ field: 'poolBelow', before: null, after: 100 }]],
    ]);
  });

  it('pages newest first, and exports a page as CSV', async () => {
    const first = expectStatus(await api('GET', '/v1/audit-log?limit=2', { token: agency.token }), 200).body;
    expect(first.items).toHaveLength(2);
    const next = await log(`?limit=2&cursor=${first.nextCursor}`);
    expect(next[0]!.id < first.items[1].id).toBe(true);
    const csv = await api('GET', '/v1/audit-log?limit=3', { token: agency.token, headers: { accept: 'text/csv' } });
    expect(csv.status).toBe(200);
    const rows = parseCsv(csv.text);
    expect(rows[0]).toEqual([
      'id',
      'at',
      'action',
      'targetType',
      'targetId',
      'actorType',
      'userId',
      'apiKeyId',
      'assistedAccountId',
      'changes',
      'requestId',
      'sourceIp',
    ]);
    expect(rows.slice(1).map((r) => r[0])).toEqual((await log('?limit=3')).map((r) => r.id));
  });

  it('carries the agency user behind an assist session, and the sub-account assisted', async () => {
    const assist = await assistToken(agency.token, client.subAccountId);
    const made = expectStatus(
      await api('POST', `/v1/accounts/${client.subAccountId}/campaigns`, { token: assist, body: { name: 'Spring' } }),
      201,
    ).body.campaign;
    const [record] = await recordsOf(made.id);
    expect(record).toMatchObject({
      action: 'campaign.created',
      target: { type: 'campaign', id: made.id },
      actor: { type: 'assist', userId: agency.userId, assistedAccountId: client.subAccountId },
    });
  });

  it('is for the agency users only, its own records only; bad input is named', async () => {
    const other = await signUpAgency('starter');
    const theirs = await createSubAccountOnly(other.token);
    expect(await log(`?target=${theirs}`)).toEqual([]);
    expect((await log('', other.token)).every((r) => r.target.id !== client.subAccountId)).toBe(true);
    const key = expectStatus(await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'no audit' } }), 201).body
      .key;
    for (const token of [client.token, key, await assistToken(agency.token, client.subAccountId)]) {
      const res = await api('GET', '/v1/audit-log', { token });
      expect([res.status, res.body.code]).toEqual([403, 'forbidden']);
    }
    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['from=yesterday', 'from'],
      ['bogus=1', 'bogus'],
    ]) {
      const res = await api('GET', `/v1/audit-log?${query}`, { token: agency.token });
      expect([res.status, res.body.errors?.[0]?.field]).toEqual([400, field]);
    }
  });
});

describe('the record is written with the change, or not at all', () => {
  it('writes none for a refused change', async () => {
    const sub = await createSubAccountOnly(agency.token);
    const before = await recordsOf(sub);
    // Beyond the plan (403), then on a closed account (409): nothing changes, nothing is recorded.
    const beyond = await api('PATCH', `/v1/sub-accounts/${sub}`, { token: agency.token, body: { features: ['reselling'] } });
    expect(beyond.status).toBe(403);
    expectStatus(await api('DELETE', `/v1/sub-accounts/${sub}`, { token: agency.token }), 204);
    const closed = await api('PATCH', `/v1/sub-accounts/${sub}`, { token: agency.token, body: { name: 'Too late' } });
    expect([closed.status, closed.body.code]).toEqual([409, 'account_closed']);
    const again = await api('POST', `/v1/sub-accounts/${sub}/reopen`, { token: agency.token });
    expect(again.status).toBe(200);
    const reopenAgain = await api('POST', `/v1/sub-accounts/${sub}/reopen`, { token: agency.token });
    expect(reopenAgain.status).toBe(409);
    expect((await recordsOf(sub)).map((r) => r.action)).toEqual([
      'sub_account.reopened',
      'sub_account.closed',
      ...before.map((r) => r.action),
    ]);
  });

  describe('a fault in the transaction, injected after the change and its record are prepared', () => {
    let subs: Handler;
    let campaigns: Handler;
    let webhooks: Handler;
    let identity: Handler;
    let dynamo: typeof import('#db/client').dynamo;
    const FAULT = 'inject-audit-fault';
    beforeAll(async () => {
      ({ dynamo } = await import('#db/client'));
      ({ handler: subs } = (await import('../../functions/http/sub-accounts')) as { handler: Handler });
      ({ handler: campaigns } = (await import('../../functions/http/campaigns')) as { handler: Handler });
      ({ handler: webhooks } = (await import('../../functions/http/auto-recharge')) as { handler: Handler });
      ({ handler: identity } = (await import('../../functions/http/identity')) as { handler: Handler });
    });
    afterEach(() => {
      dynamo.middlewareStack.remove(FAULT);
    });

    /**
     * DynamoDB itself refuses the audit record (its condition made one that cannot hold), so the
     * engine, not this test, decides what the transaction leaves: the change must go with it.
     */
    function refuseAuditRecords(): () => number {
      let refused = 0;
      dynamo.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers: Record<string, string>; body?: unknown };
          const target = Object.entries(request.headers ?? {}).find(([name]) => name.toLowerCase() === 'x-amz-target')?.[1];
          if (target?.endsWith('.TransactWriteItems') && request.body !== undefined) {
            const input = JSON.parse(String(request.body)) as {
              TransactItems: Array<{ Put?: { Item: { kind?: { S?: string } }; ConditionExpression?: string } }>;
            };
            for (const item of input.TransactItems) {
              if (item.Put?.Item.kind?.S !== 'audit_record') continue;
              item.Put.ConditionExpression = 'attribute_exists(pk)';
              refused++;
            }
            const body = JSON.stringify(input);
            request.body = body;
            for (const name of Object.keys(request.headers))
              if (name.toLowerCase() === 'content-length') delete request.headers[name];
            request.headers['content-length'] = String(Buffer.byteLength(body));
          }
          return next(args);
        },
        { step: 'finalizeRequest', name: FAULT, priority: 'high' },
      );
      return () => refused;
    }

    it('leaves neither the change nor the record (update, close, create)', async () => {
      const sub = await createSubAccountOnly(agency.token);
      const before = await recordsOf(sub);
      const refused = refuseAuditRecords();

      const rename = await invoke(subs, 'PATCH /v1/sub-accounts/{subAccountId}', {
        token: agency.token,
        params: { subAccountId: sub },
        body: { name: 'Never' },
      });
      expect(rename.status).toBeGreaterThanOrEqual(500);
      const close = await invoke(subs, 'DELETE /v1/sub-accounts/{subAccountId}', {
        token: agency.token,
        params: { subAccountId: sub },
      });
      expect(close.status).toBeGreaterThanOrEqual(500);
      const email = uniqueEmail('never');
      const create = await invoke(subs, 'POST /v1/sub-accounts', {
        token: agency.token,
        body: { name: 'Never', email, clientLogin: false },
      });
      expect(create.status).toBeGreaterThanOrEqual(500);
      expect(refused()).toBe(3);
      dynamo.middlewareStack.remove(FAULT);

      const now = expectStatus(await api('GET', `/v1/sub-accounts/${sub}`, { token: agency.token }), 200).body.subAccount;
      expect([now.name, now.status]).not.toContain('Never');
      expect(now.status).toBe('active');
      expect(await recordsOf(sub)).toEqual(before);
      const listed = (await api('GET', '/v1/sub-accounts?limit=200', { token: agency.token })).body.items;
      expect(listed.some((s: { email: string }) => s.email === email)).toBe(false);

      // Without the fault the same calls go through, each with its record.
      const ok = await invoke(subs, 'PATCH /v1/sub-accounts/{subAccountId}', {
        token: agency.token,
        params: { subAccountId: sub },
        body: { name: 'Now' },
      });
      expect(ok.status).toBe(200);
      expect((await recordsOf(sub))[0]).toMatchObject({
        action: 'sub_account.updated',
        changes: [{ field: 'name', after: 'Now' }],
      });
    });

    it('leaves neither on the routes made transactional for their record (campaign, webhook endpoint, logout)', async () => {
      const path = `/v1/accounts/${client.subAccountId}/campaigns`;
      const made = expectStatus(await api('POST', path, { token: agency.token, body: { name: 'Kept' } }), 201).body.campaign;
      const endpoint = expectStatus(
        await api('POST', '/v1/webhook-endpoints', {
          token: agency.token,
          body: { url: 'http://127.0.0.1:9/fault', events: ['sub_account.created'] },
        }),
        201,
      ).body.endpoint;
      const session = expectStatus(
        await api('POST', '/v1/auth/login', { body: { email: agency.email, password: agency.password } }),
        200,
      ).body.token;
      const before = await log();
      const refused = refuseAuditRecords();

      const calls = [
        invoke(campaigns, 'PATCH /v1/accounts/{accountId}/campaigns/{campaignId}', {
          token: agency.token,
          params: { accountId: client.subAccountId, campaignId: made.id },
          body: { name: 'Never' },
        }),
        invoke(campaigns, 'DELETE /v1/accounts/{accountId}/campaigns/{campaignId}', {
          token: agency.token,
          params: { accountId: client.subAccountId, campaignId: made.id },
        }),
        invoke(webhooks, 'PATCH /v1/webhook-endpoints/{webhookEndpointId}', {
          token: agency.token,
          params: { webhookEndpointId: endpoint.id },
          body: { description: 'Never' },
        }),
        invoke(identity, 'POST /v1/auth/logout', { token: session }),
      ];
      for (const call of calls) expect((await call).status).toBeGreaterThanOrEqual(500);
      expect(refused()).toBe(4);
      dynamo.middlewareStack.remove(FAULT);

      // Nothing changed: the campaign has its name, the endpoint no description, the session still works.
      expect(expectStatus(await api('GET', `${path}/${made.id}`, { token: agency.token }), 200).body.campaign.name).toBe('Kept');
      const now = expectStatus(await api('GET', `/v1/webhook-endpoints/${endpoint.id}`, { token: agency.token }), 200).body;
      expect(now.description).toBeNull();
      expect((await api('GET', '/v1/me', { token: session })).status).toBe(200);
      expect(await log()).toEqual(before);
      expectStatus(await api('DELETE', `/v1/webhook-endpoints/${endpoint.id}`, { token: agency.token }), 204);
    });
  });
});

describe('secrets', () => {
  it('no record holds a password, token, key or secret of a full flow', async () => {
    const owner = await signUpAgency('agency');
    const secrets: string[] = [owner.password, owner.token];
    const sub = await createSubAccount(owner.token);
    secrets.push(sub.password, sub.token);
    const key = expectStatus(await api('POST', '/v1/api-keys', { token: owner.token, body: { name: 'srv' } }), 201).body;
    secrets.push(key.key, hashApiKey(key.key));
    const issued = expectStatus(
      await api('POST', `/v1/sub-accounts/${sub.subAccountId}/credentials`, { token: owner.token }),
      201,
    ).body;
    secrets.push(issued.password);
    const assist = await assistToken(owner.token, sub.subAccountId);
    secrets.push(assist);
    expectStatus(
      await api('POST', `/v1/accounts/${sub.subAccountId}/campaigns`, { token: assist, body: { name: 'Helped' } }),
      201,
    );
    const newPassword = `pw-${randomUUID()}`;
    const changed = expectStatus(
      await api('POST', '/v1/auth/password', { token: owner.token, body: { currentPassword: owner.password, newPassword } }),
      200,
    ).body;
    secrets.push(newPassword, changed.token);
    expectStatus(await api('DELETE', `/v1/api-keys/${key.id}`, { token: changed.token }), 204);
    expectStatus(await api('DELETE', `/v1/sub-accounts/${sub.subAccountId}`, { token: changed.token }), 204);
    expectStatus(await api('POST', `/v1/sub-accounts/${sub.subAccountId}/reopen`, { token: changed.token }), 200);

    // Sessions, the emailed tokens, and webhook secrets (rotated ones too).
    secrets.push(await tokenFromEmail(owner.email, /^Confirm your email/));
    const session = expectStatus(
      await api('POST', '/v1/auth/login', { body: { email: owner.email, password: newPassword } }),
      200,
    ).body.token;
    secrets.push(session);
    const token = changed.token;
    const endpoint = expectStatus(
      await api('POST', '/v1/webhook-endpoints', {
        token,
        body: { url: 'http://127.0.0.1:9/secrets', events: ['sub_account.created'] },
      }),
      201,
    ).body;
    secrets.push(endpoint.secret);
    const rotate = `/v1/webhook-endpoints/${endpoint.endpoint.id}/rotate-secret`;
    secrets.push(expectStatus(await api('POST', rotate, { token }), 200).body.secret);
    const recharge = { url: 'http://127.0.0.1:9/recharge' };
    secrets.push(
      expectStatus(await api('PUT', '/v1/reselling/auto-recharge-webhook', { token, body: recharge }), 200).body.secret,
    );
    const rotated = await api('POST', '/v1/reselling/auto-recharge-webhook/rotate-secret', { token });
    secrets.push(expectStatus(rotated, 200).body.secret);
    expectStatus(await api('POST', '/v1/auth/logout', { token: session }), 204);
    expectStatus(await api('POST', '/v1/auth/password-reset', { body: { email: owner.email } }), 202);
    const reset = await tokenFromEmail(owner.email, /^Reset your/);
    const resetPassword = `pw-${randomUUID()}`;
    expectStatus(
      await api('POST', '/v1/auth/password-reset/confirm', { body: { token: reset, newPassword: resetPassword } }),
      204,
    );
    secrets.push(reset, resetPassword);

    const records = await auditRecordsOf(owner.agencyId);
    // The password change is recorded as having happened, by whom: nothing more.
    expect(records.find((r) => r.action === 'user.password_changed')).toMatchObject({
      target: { type: 'user', id: owner.userId },
      actor: { type: 'user', userId: owner.userId },
      changes: [],
    });
    const stored = JSON.stringify(records);
    expect(records.map((r) => r.action)).toEqual(
      expect.arrayContaining([
        'user.logged_in',
        'user.logged_out',
        'agency.email_verified',
        'webhook_endpoint.secret_rotated',
        'auto_recharge_webhook.secret_rotated',
        'user.password_reset_requested',
        'user.password_reset',
      ]),
    );
    expect(secrets.every((secret) => typeof secret === 'string' && secret.length >= 16)).toBe(true);
    for (const secret of secrets) expect(stored.includes(secret), 'a secret in the audit log').toBe(false);
    // No field even named like one.
    expect(stored).not.toMatch(/"(password|passwordHash|token|key|keyHash|secret|hint)"/i);
  });
});
