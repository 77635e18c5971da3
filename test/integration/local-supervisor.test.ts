import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { localCredentials, localRegion } from '#local/aws-env';
import { dynamoService, streamArnOf } from '#local/dynamodb';
import { serverInstance } from '#local/instances';
import { freePort, type LocalStack, startLocalStack } from '#local/stack';
import { startStreamPoller } from '#local/stream-poller';
import { type BackEvent, createSupervisor, type Instance, type Supervisor } from '#local/supervisor';

// Each test starts its own engines (not the shared test stack), so killing them disturbs no other test.

const aws = { region: localRegion, credentials: localCredentials };
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
/** The next time `service` is back after a restart. */
const backOf = (events: Supervisor['events'], service: string) =>
  new Promise<BackEvent>((resolve) => {
    const on = (e: BackEvent) => {
      if (e.service !== service) return;
      events.off('back', on);
      resolve(e);
    };
    events.on('back', on);
  });

describe('DynamoDB Local under the supervisor', () => {
  it('comes back on the same port with its data after kill -9 and after it hangs (SIGSTOP); the stream is resumed, not replayed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'supervised-dynamodb-'));
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const table = 'supervised';
    const lines: string[] = [];
    const supervisor = createSupervisor({
      log: (line) => lines.push(line),
      policy: { maxRestarts: 10, healthIntervalMs: 300, healthTimeoutMs: 2000, healthFailures: 2 },
    });
    const db = new DynamoDBClient({ endpoint, ...aws });
    // Items the stream filter lets through, so that the poller hands them on.
    const put = (id: string) =>
      db.send(
        new PutItemCommand({ TableName: table, Item: { pk: { S: id }, sk: { S: 'x' }, kind: { S: 'outbox' }, id: { S: id } } }),
      );
    const read = async (id: string) =>
      (await db.send(new GetItemCommand({ TableName: table, Key: { pk: { S: id }, sk: { S: 'x' } } }))).Item?.id?.S;
    const streamed: string[] = [];
    const streamedUpTo = async (id: string) => {
      for (let i = 0; i < 300 && !streamed.includes(id); i++) await new Promise((r) => setTimeout(r, 100));
      return streamed;
    };
    let poller: { stop(): Promise<void> } | undefined;
    let lastPid: number | undefined;
    try {
      await supervisor.add(dynamoService({ port, dataDir, tableName: table }));
      poller = startStreamPoller({
        endpoint,
        streamArn: () => streamArnOf(endpoint, table),
        functionName: 'forwarder',
        log: (line) => lines.push(line),
        handler: async (event) => {
          for (const r of event.Records) streamed.push(r.dynamodb?.NewImage?.id?.S ?? '?');
          return undefined;
        },
      });
      await put('a');
      await put('b');
      expect(await streamedUpTo('b')).toEqual(['a', 'b']);

      const killed = supervisor.pid('dynamodb') as number;
      let back = backOf(supervisor.events, 'dynamodb');
      const killedAt = performance.now();
      process.kill(killed, 'SIGKILL');
      await back;
      console.log(`DynamoDB Local (on disk) back ${((performance.now() - killedAt) / 1000).toFixed(1)}s after kill -9`);
      expect(alive(killed)).toBe(false);
      expect(supervisor.pid('dynamodb')).not.toBe(killed);
      expect(await read('a')).toBe('a');
      expect(supervisor.restarts.map((r) => r.reason)).toContain('was killed (SIGKILL)');
      expect(lines).toContain('dynamodb was killed (SIGKILL); restarting (1/10 in 60s)…');
      expect(lines.some((l) => l.startsWith('dynamodb is back after'))).toBe(true);
      await put('c');
      expect(await streamedUpTo('c')).toEqual(['a', 'b', 'c']);

      // Alive but not answering: only the health checks can tell.
      const hung = supervisor.pid('dynamodb') as number;
      back = backOf(supervisor.events, 'dynamodb');
      process.kill(hung, 'SIGSTOP');
      await back;
      expect(alive(hung)).toBe(false);
      expect(supervisor.restarts.some((r) => r.reason.startsWith('stopped answering'))).toBe(true);
      expect(await read('a')).toBe('a');
      lastPid = supervisor.pid('dynamodb');
    } finally {
      await poller?.stop();
      await supervisor.stop();
      db.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(lastPid && alive(lastPid)).toBe(false);
  }, 180_000); // a loaded machine starts a JVM slowly, three times here
});

describe('the local stack under its supervisor', () => {
  /** Signs up and follows the verification email of this stack's inbox (sub-accounts need it). */
  async function signUp(stack: LocalStack) {
    const email = `owner-${Date.now()}@example.test`;
    const res = await fetch(`${stack.apiUrl}/v1/agencies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ agencyName: 'Supervised', name: 'Owner', email, password: 'correct-horse-1' }),
    });
    expect(res.status).toBe(201);
    let link: string | undefined;
    for (let i = 0; i < 300 && !link; i++) {
      const store = (await (await fetch(`${stack.sesUrl}/store`)).json()) as {
        emails: Array<{ destination: { to: string[] }; body: { text?: string } }>;
      };
      const text = store.emails.filter((e) => e.destination.to.includes(email)).at(-1)?.body.text;
      link = text && /[?&]token=([A-Za-z0-9_-]+)/.exec(text)?.[1];
      if (!link) await new Promise((r) => setTimeout(r, 100));
    }
    const verified = await fetch(`${stack.apiUrl}/v1/auth/verify-email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: link }),
    });
    expect(verified.status).toBe(204);
    return ((await res.json()) as { token: string }).token;
  }

  /** Creates a sub-account and waits for its credentials email: table → stream → SQS → notifier → SES. */
  async function emailReaches(stack: LocalStack, token: string, email: string) {
    const res = await fetch(`${stack.apiUrl}/v1/sub-accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Client', email }),
    });
    expect(res.status).toBe(201);
    for (let i = 0; i < 300; i++) {
      const store = (await (await fetch(`${stack.sesUrl}/store`)).json()) as { emails: Array<{ destination: { to: string[] } }> };
      if (store.emails.some((e) => e.destination.to.includes(email))) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it('restarts DynamoDB Local (table re-created, stream followed) and local SQS (queues re-created) on their ports', async () => {
    const lines: string[] = [];
    const stack = await startLocalStack({ queueVisibilitySeconds: 1, log: (line) => lines.push(line) });
    const db = new DynamoDBClient({ endpoint: stack.dynamoEndpoint, ...aws });
    const sqs = new SQSClient({ endpoint: stack.sqsEndpoint, ...aws });
    let lastPid: number | undefined;
    try {
      // The pipeline runs (the stream poller holds the first table's stream) before the kill.
      expect(await emailReaches(stack, await signUp(stack), `before-${Date.now()}@example.test`)).toBe(true);
      const killed = stack.pid('dynamodb') as number;
      const dynamoBack = backOf(stack.events, 'dynamodb');
      await stack.kill('dynamodb');
      await dynamoBack;
      expect(alive(killed)).toBe(false);
      expect((await db.send(new ListTablesCommand({}))).TableNames).toContain(stack.tableName);
      expect(lines.some((l) => l.startsWith('dynamodb was killed (SIGKILL)') && l.includes('in memory'))).toBe(true);
      // The handlers' endpoint still holds, and the stream poller reads the new table's stream
      // (in memory, the agency signed up before is gone with the old table).
      const token = await signUp(stack);
      expect(await emailReaches(stack, token, `after-dynamodb-${Date.now()}@example.test`)).toBe(true);

      const sqsBack = backOf(stack.events, 'sqs');
      await stack.kill('sqs');
      await sqsBack;
      const { Attributes } = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: stack.queueUrls.notifications, AttributeNames: ['RedrivePolicy'] }),
      );
      expect(Attributes?.RedrivePolicy).toContain('dlq');
      expect(await emailReaches(stack, token, `after-sqs-${Date.now()}@example.test`)).toBe(true);
      expect(stack.restarts.map((r) => r.service)).toEqual(['dynamodb', 'sqs']);
      lastPid = stack.pid('dynamodb');
    } finally {
      await stack.stop();
      db.destroy();
      sqs.destroy();
    }
    expect(lastPid && alive(lastPid)).toBe(false);
  }, 180_000); // a loaded machine starts a JVM slowly, three times here
});

describe('a service that keeps dying', () => {
  const listen = async (port: number): Promise<Instance> => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    return serverInstance(server);
  };

  it('makes the supervisor stop everything and report fatal, naming the service and why', async () => {
    const lines: string[] = [];
    const supervisor = createSupervisor({ log: (line) => lines.push(line), policy: { maxRestarts: 2, backoffMs: 10 } });
    const neighbourPort = await freePort();
    await supervisor.add({ name: 'neighbour', start: () => listen(neighbourPort) });
    let starts = 0;
    const flakyPort = await freePort();
    await supervisor.add({
      name: 'flaky',
      start: async () => {
        if (++starts > 1) throw new Error('cannot listen');
        return listen(flakyPort);
      },
    });
    expect(await (await fetch(`http://127.0.0.1:${neighbourPort}/`)).text()).toBe('ok');

    await supervisor.kill('flaky');
    const fatal = await supervisor.fatal;
    expect(fatal.message).toMatch(/^flaky keeps dying: 3 times within 60s \(last: failed to restart \(cannot listen\)\)/);
    expect(starts).toBe(3);
    expect(lines.slice(0, 2)).toEqual([
      'flaky stopped listening; restarting (1/2 in 60s)…',
      'flaky failed to restart (cannot listen); restarting (2/2 in 60s)…',
    ]);
    // Everything else was stopped too.
    await expect(fetch(`http://127.0.0.1:${neighbourPort}/`)).rejects.toThrow();
  });
});
