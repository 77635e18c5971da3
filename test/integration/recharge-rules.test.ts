/**
 * Auto-recharge rules (API.md, Auto-recharge): expiry and the daily cap with the injectable
 * clock (never waiting), enabling below the threshold, credit modes and ranges, the SSRF table
 * with a stubbed resolver (no traffic: the system resolver is guarded), the address checked
 * again at send time, and the webhooks DLQ catching poison.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AgencyItem, SubAccountItem } from '#db/items/account';
import { checkedUrl } from '#domain/recharge/endpoint';
import { openRechargeRequest } from '#domain/recharge/open';
import { queueDefinitions } from '#queues/definitions';
import { api, emailsTo, uniq, waitFor } from '../support/api';
import { accountItem, createSubAccountOnly, expectStatus, patchSub } from '../support/ledger';
import { debit, deliveriesOf, grantWith, rechargeSetup, requestsOf, saveEndpoint } from '../support/recharge';
import { stack } from '../support/stack';
import { getRaw, testDb } from '../support/table';

const H25 = '+90000000'; // the test clock 25 hours ahead

describe.concurrent('requests: expiry, the daily cap, enabling below the threshold', () => {
  it('a request expires after 24 h: a grant for it is then 409, the list says expired, the next debit opens a new one', async () => {
    const { agency, sub } = await rechargeSetup({ wallet: 60 });
    expectStatus(
      await patchSub(agency.token, sub, { autoRecharge: { enabled: true, threshold: 50, credits: 10 } }),
      200,
      'enable',
    );
    expectStatus(await debit(sub, 20), 201, 'debit');
    const [first] = await waitFor(async () => {
      const rs = await requestsOf(agency.token);
      return rs.length > 0 && rs;
    });
    expect(Date.parse(first!.expiresAt) - Date.parse(first!.createdAt)).toBe(24 * 3600 * 1000);

    // The agency's payment server calls with an API key (a session would have expired by then).
    const key = expectStatus(await api('POST', '/v1/api-keys', { token: agency.token, body: { name: 'billing' } }), 201, 'key')
      .body.key;
    const late = await grantWith(key, sub, 10, { requestId: first!.id }, H25);
    expect(late.status, late.text).toBe(409);
    expect(late.body.code).toBe('recharge_request_closed');
    const listed = await api('GET', '/v1/reselling/recharge-requests?status=expired', { token: key, clock: H25 });
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([first!.id]);

    expectStatus(await debit(sub, 1, H25), 201, 'debit a day later');
    await waitFor(async () => (await requestsOf(agency.token)).length === 2);
    const seenLater = await api('GET', '/v1/reselling/recharge-requests', { token: key, clock: H25 });
    // Newest first, as seen 25 h on: the new one open, the first expired.
    expect(seenLater.body.items.map((r: { status: string }) => r.status)).toEqual(['open', 'expired']);
  });

  it(`opens at most ${10} requests per sub-account per UTC day, then emails the agency once instead; the next day opens again`, async () => {
    const { agency, sub } = await rechargeSetup({ wallet: 5 });
    expectStatus(
      await patchSub(agency.token, sub, { autoRecharge: { enabled: true, threshold: 50, credits: 1 } }),
      200,
      'enable',
    );
    // Enabling below the threshold opened the day's first request at once (real time); close it.
    const [opened] = await requestsOf(agency.token);
    expectStatus(await grantWith(agency.token, sub, 1, { requestId: opened!.id }), 201, 'close the first');

    const read = async () => ({
      sub: (await accountItem(sub)) as SubAccountItem,
      agency: (await accountItem(agency.agencyId)) as AgencyItem,
    });
    const { sub: item, agency: agencyItem } = await read();
    const day = new Date(Date.parse(opened!.createdAt));
    const open = (at: Date) => openRechargeRequest({ sub: item, agency: agencyItem, settings: undefined, balance: 3, at });
    for (let i = 1; i < 10; i++) {
      expect(await open(day)).toBe('opened');
      expect(await open(day)).toBe('already_open'); // one at a time
      const [latest] = await requestsOf(agency.token, '?status=open');
      expectStatus(await grantWith(agency.token, sub, 1, { requestId: latest!.id }), 201, `close #${i + 1}`);
    }
    expect(await open(day)).toBe('capped');
    expect(await open(day)).toBe('capped');
    const mail = await waitFor(async () => (await emailsTo(agency.email)).find((m) => /Auto-recharge paused/.test(m.subject)));
    expect(mail.body.text).toContain(sub);
    expect((await getRaw(`RECHARGE#${agency.agencyId}`, `STATE#${sub}`))?.capNotifiedDay).toBe(day.toISOString().slice(0, 10));
    expect(await requestsOf(agency.token)).toHaveLength(10);

    expect(await open(new Date(day.getTime() + 24 * 3600 * 1000))).toBe('opened');
  });

  it('enabling on a wallet already below the threshold opens one at once; manual mode is 409, out-of-range values 400', async () => {
    const { agency, sub } = await rechargeSetup({ wallet: 10 });
    expectStatus(
      await patchSub(agency.token, sub, { autoRecharge: { enabled: true, threshold: 50, credits: 100 } }),
      200,
      'enable',
    );
    const [request] = await requestsOf(agency.token); // no waiting: opened by the PATCH itself
    expect(request).toMatchObject({
      subAccountId: sub,
      status: 'open',
      balanceAtTrigger: 10,
      threshold: 50,
      creditsRequested: 100,
    });
    expect(request!.deliveryId).toBeNull(); // no endpoint saved

    const manual = await createSubAccountOnly(agency.token);
    const refused = await patchSub(agency.token, manual, { autoRecharge: { enabled: true, threshold: 1, credits: 1 } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('wrong_credit_mode');
    for (const autoRecharge of [
      { enabled: true, threshold: -1, credits: 1 },
      { enabled: true, threshold: 1_000_000_001, credits: 1 },
      { enabled: true, threshold: 1, credits: 0 },
      { enabled: true, threshold: 1, credits: 1_000_001 },
    ]) {
      const bad = await patchSub(agency.token, sub, { autoRecharge });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].field).toMatch(/^autoRecharge\./);
    }
    // Another sub-account's request is unknown to this one's grant.
    const elsewhere = await createSubAccountOnly(agency.token);
    expectStatus(await patchSub(agency.token, elsewhere, { creditMode: 'reselling' }), 200, 'reselling');
    const wrongSub = await grantWith(agency.token, elsewhere, 1, { requestId: request!.id });
    expect(wrongSub.status).toBe(404);
  });
});

describe('no SSRF: the address rules at save (stubbed resolver, no traffic) and again at send', () => {
  let asked: string[];
  const saved = process.env.WEBHOOKS_ALLOW_LOOPBACK_HTTP;
  beforeEach(() => {
    asked = [];
    // Any name reaching the system resolver is a test failure (and nothing is sent anywhere).
    vi.spyOn(dns, 'lookup').mockImplementation(((hostname: string, ...args: unknown[]) => {
      asked.push(hostname);
      const callback = args.at(-1) as (err: Error) => void;
      process.nextTick(() => callback(Object.assign(new Error('test guard: no DNS'), { code: 'ENOTFOUND' })));
    }) as never);
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env.WEBHOOKS_ALLOW_LOOPBACK_HTTP = saved;
    expect(asked).toEqual([]);
  });

  const zone: Record<string, string[]> = {
    'public.example-payments.com': ['93.184.216.34'],
    'rebind.example-payments.com': ['93.184.216.34', '10.1.2.3'],
    'metadata.example-payments.com': ['169.254.169.254'],
    'mapped.example-payments.com': ['::ffff:192.168.0.1'],
    'cgnat.example-payments.com': ['100.64.1.1'],
  };
  const resolver = async (host: string) => {
    const addresses = zone[host];
    if (!addresses) throw Object.assign(new Error('no such host'), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: isIP(address) }));
  };
  const refusal = async (url: string) => {
    try {
      await checkedUrl(url, { resolver });
      return 'allowed';
    } catch (err) {
      const e = err as { code: string; facts: { extensions?: { reason?: string; refusal?: string } } };
      expect(e.code).toBe('invalid_webhook_url');
      return e.facts.extensions?.refusal ?? e.facts.extensions?.reason;
    }
  };

  it('refuses private, loopback, link-local, CGNAT, unique-local, mapped, metadata and odd IPv4 spellings, deployed rules', async () => {
    process.env.WEBHOOKS_ALLOW_LOOPBACK_HTTP = 'false'; // as deployed
    const table: [string, string][] = [
      ['https://public.example-payments.com/hook', 'allowed'],
      ['https://93.184.216.34/hook', 'allowed'],
      ['http://public.example-payments.com/hook', 'scheme'],
      ['http://127.0.0.1:8080/hook', 'scheme'],
      ['https://127.0.0.1/hook', 'loopback'],
      ['https://localhost/hook', 'hostname'],
      ['https://10.0.0.1/', 'private'],
      ['https://172.16.5.4/', 'private'],
      ['https://192.168.1.1/', 'private'],
      ['https://169.254.169.254/latest/meta-data', 'cloud_metadata'],
      ['https://169.254.10.1/', 'link_local'],
      ['https://100.64.0.1/', 'cgnat'],
      ['https://0.0.0.0/', 'unspecified'],
      ['https://[::1]/', 'loopback'],
      ['https://[fe80::1]/', 'link_local'],
      ['https://[fd00::1]/', 'unique_local'],
      ['https://[::ffff:127.0.0.1]/', 'ipv4_mapped'],
      ['https://2130706433/', 'loopback'], // decimal
      ['https://0177.0.0.1/', 'loopback'], // octal
      ['https://0x7f.1/', 'loopback'], // hex, short form
      ['https://127.1/', 'loopback'], // short form
      ['https://rebind.example-payments.com/', 'private'], // one bad answer is enough
      ['https://metadata.example-payments.com/', 'cloud_metadata'],
      ['https://mapped.example-payments.com/', 'ipv4_mapped'],
      ['https://cgnat.example-payments.com/', 'cgnat'],
      ['https://nowhere.example-payments.com/', 'resolution_failed'],
      ['https://billing.internal/', 'hostname'],
      ['https://user:pw@public.example-payments.com/', 'credentials'],
      ['https://public.example-payments.com/#frag', 'fragment'],
      ['not a url', 'malformed'],
    ];
    const got = await Promise.all(table.map(async ([url]) => [url, await refusal(url)]));
    expect(got).toEqual(table);
  });

  it('locally (npm start, the tests) http://127.0.0.1 and localhost are allowed, nothing else on loopback or private', async () => {
    process.env.WEBHOOKS_ALLOW_LOOPBACK_HTTP = 'true';
    expect(await refusal('http://127.0.0.1:8080/hook')).toBe('allowed');
    expect(await refusal('http://[::1]:8080/hook')).toBe('allowed');
    expect(await refusal('http://10.0.0.1/hook')).toBe('scheme');
    expect(await refusal('https://127.0.0.2/hook')).toBe('loopback');
  });

  it('over HTTP: 400 invalid_webhook_url naming the field and the reason; nothing saved', async () => {
    const { agency } = await rechargeSetup();
    const res = await api('PUT', '/v1/reselling/auto-recharge-webhook', {
      token: agency.token,
      body: { url: 'https://192.168.0.10/hook' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({
      code: 'invalid_webhook_url',
      reason: 'address',
      refusal: 'private',
      errors: [{ field: 'url' }],
    });
    expect((await api('GET', '/v1/reselling/auto-recharge-webhook', { token: agency.token })).status).toBe(404);
  });

  it('checks the address again before each attempt: a target that became private is a failed attempt, nothing sent', async () => {
    const { agency } = await rechargeSetup();
    await saveEndpoint(agency.token, 'http://127.0.0.1:9/hook');
    // As if the name now pointed somewhere private: the stored target no longer passes.
    await testDb.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: `ACCOUNT#${agency.agencyId}`, sk: 'RESELLING' },
        UpdateExpression: 'SET autoRechargeWebhook.#url = :url',
        ExpressionAttributeNames: { '#url': 'url' },
        ExpressionAttributeValues: { ':url': 'https://10.20.30.40/hook' },
      }),
    );
    expectStatus(await api('POST', '/v1/reselling/auto-recharge-webhook/test', { token: agency.token }), 202, 'test event');
    const [d] = await waitFor(async () => {
      const ds = await deliveriesOf(agency.token);
      return ds[0]?.status === 'failed' && ds;
    }, 20_000);
    expect(d).toMatchObject({ lastStatusCode: null, lastError: expect.stringContaining('private network') });
  });
});

describe('the webhooks DLQ', () => {
  it('catches a poison message after maxReceiveCount receives', async () => {
    const sqs = new SQSClient({
      endpoint: stack.sqsEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const poison = `not json ${uniq('poison')}`;
    await sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrls.webhooks, MessageBody: poison }));
    const dead = await waitFor(
      async () => {
        const out = await sqs.send(
          new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.webhooksDlq, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
        );
        return out.Messages?.find((m) => m.Body === poison);
      },
      (queueDefinitions.webhooks.maxReceiveCount + 1) * 1000 + 30_000,
      'the poison message in the webhooks DLQ',
    );
    expect(dead.Body).toBe(poison);
  });
});
