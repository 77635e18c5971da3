/**
 * No secret in any log line. A child `npm start` (the real entry point, its own stack in memory,
 * its own ports and data directory) runs with every log line switched on: Powertools at DEBUG,
 * event logging asked for by the environment (POWERTOOLS_LOGGER_LOG_EVENT=true, as an operator
 * debugging might set it), EMF metrics on, and the access log. A full flow runs against it —
 * sign-up (and a refused one), email verification, a sub-account with its generated password,
 * logins with the right and a wrong password, an API key made and used, assist, a password
 * change, a password reset, credits moved, a token that is not one — and then every line the
 * process wrote, stdout and stderr, is searched for every secret of the flow. The start banner
 * may print the local platform key once; nothing else may print any.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/stack';
import { type OwnClient, ownClient, sleep, until } from '../support/own-stack';

const root = resolve(import.meta.dirname, '../..');
let child: ChildProcess;
let dir: string;
let output = '';
let exited: Promise<number | null>;
let client: OwnClient;
let platformKey: string;

/** The environment of a fresh shell: nothing of the shared test stack this worker inherited. */
function cleanEnv(): Record<string, string> {
  const inherited =
    /^(AWS_|POWERTOOLS_|TABLE_NAME$|NOTIFICATIONS_QUEUE_URL$|TOKEN_SECRET|PLATFORM_API_KEY$|LOCAL_ENCRYPTION_KEY$|EMAIL_FROM$|APP_|VITEST|NODE_OPTIONS$)/;
  return Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !inherited.test(k))) as Record<
    string,
    string
  >;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'log-secrets-'));
  const ports = {
    PORT: await freePort(),
    SES_PORT: await freePort(),
    DYNAMODB_PORT: await freePort(),
    SQS_PORT: await freePort(),
  };
  // Node itself, with tsx as a loader: the tsx CLI relays SIGINT through a handshake with its
  // child that, on a loaded machine, can time out and end the run with 130 before the stack stops.
  child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), join(root, 'scripts/start.ts'), '--in-memory'], {
    cwd: dir, // its .data/ (generated secrets) lives here, not in the worktree
    env: {
      ...cleanEnv(),
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_LOGGER_LOG_EVENT: 'true',
      POWERTOOLS_METRICS_DISABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  await until(async () => output.includes('Press Ctrl-C to stop.') || child.exitCode !== null, 'npm start to be ready', 90_000);
  if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
  platformKey = JSON.parse(readFileSync(join(dir, '.data/local-secrets.json'), 'utf8')).platformApiKey;
  client = ownClient({
    apiUrl: `http://127.0.0.1:${ports.PORT}`,
    sesUrl: `http://127.0.0.1:${ports.SES_PORT}`,
    platformApiKey: platformKey,
  });
}, 120_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every secret the flow saw, by name; JWTs and keys also by their secret parts alone. */
const secrets = new Map<string, string>();
function secret(name: string, value: string | undefined): string {
  if (!value) throw new Error(`no ${name}`);
  secrets.set(name, value);
  const jwt = value.split('.');
  if (jwt.length === 3) secrets.set(`${name} (signature)`, jwt[2]!);
  if (value.startsWith('ak_')) secrets.set(`${name} (without prefix)`, value.slice(3));
  return value;
}

describe('log lines of a whole flow through npm start', () => {
  it('hold no password, token, API key or generated secret; the platform key only once, in the banner', async () => {
    const { call } = client;
    const ownerEmail = `owner-${randomUUID()}@example.test`;
    const clientEmail = `client-${randomUUID()}@example.test`;
    const owner = secret('owner password', `owner-pw-${randomBytes(6).toString('hex')}`);

    const weak = secret('refused password', `Sh0rt${randomBytes(1).toString('hex')}`);
    expect(
      (await call('POST', '/v1/agencies', { body: { agencyName: 'Leaky', name: 'Ann', email: ownerEmail, password: weak } }))
        .status,
    ).toBe(400);
    const signUp = await call('POST', '/v1/agencies', {
      body: { agencyName: 'Leaky', name: 'Ann', email: ownerEmail, password: owner },
    });
    expect(signUp.status).toBe(201);
    const agencyId: string = signUp.body.agency.id;
    let token = secret('sign-up session', signUp.body.token);
    expect((await call('PATCH', `/v1/admin/agencies/${agencyId}`, { token: platformKey, body: { plan: 'agency' } })).status).toBe(
      200,
    );
    const verify = secret('verification token', await client.emailedToken(ownerEmail, /^Confirm your email/));
    expect((await call('POST', '/v1/auth/verify-email', { body: { token: verify } })).status).toBe(204);

    const sub = await call('POST', '/v1/sub-accounts', { token, body: { name: 'Bloom', email: clientEmail } });
    expect(sub.status).toBe(201);
    const subId: string = sub.body.subAccount.id;
    const generated = secret('generated password', sub.body.password);

    const wrong = secret('wrong password', `wrong-${randomBytes(6).toString('hex')}`);
    expect((await call('POST', '/v1/auth/login', { body: { email: ownerEmail, password: wrong } })).status).toBe(401);
    const login = await call('POST', '/v1/auth/login', { body: { email: ownerEmail, password: owner } });
    expect(login.status).toBe(200);
    token = secret('login session', login.body.token);
    const clientLogin = await call('POST', '/v1/auth/login', { body: { email: clientEmail, password: generated } });
    expect(clientLogin.status).toBe(200);
    secret('client session', clientLogin.body.token);
    // A body the schema refuses, with a password in it: the refusal names the field, not the value.
    const extra = secret('password in a refused body', `refused-${randomBytes(6).toString('hex')}`);
    expect((await call('POST', '/v1/auth/login', { body: { email: ownerEmail, password: extra, remember: true } })).status).toBe(
      400,
    );

    const key = await call('POST', '/v1/api-keys', { token, body: { name: 'billing server' } });
    expect(key.status).toBe(201);
    const apiKey = secret('API key', key.body.key);
    expect((await call('GET', '/v1/sub-accounts', { token: apiKey })).status).toBe(200);
    const forged = secret('a token that is not one', `ak_${randomBytes(24).toString('base64url')}`);
    expect((await call('GET', '/v1/me', { token: forged })).status).toBe(401);

    const assist = await call('POST', `/v1/sub-accounts/${subId}/assist`, { token });
    expect(assist.status).toBe(201);
    const assistToken = secret('assist token', assist.body.token);
    expect((await call('GET', '/v1/me', { token: assistToken })).status).toBe(200);
    expect((await call('POST', '/v1/assist/exit', { token: assistToken })).status).toBe(204);

    const idem = { 'idempotency-key': randomUUID() };
    expect(
      (
        await call('POST', `/v1/admin/agencies/${agencyId}/credits`, {
          token: platformKey,
          headers: idem,
          body: { credits: 100, reference: 'x' },
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await call('POST', `/v1/accounts/${subId}/usage`, {
          token: platformKey,
          headers: { 'idempotency-key': randomUUID() },
          body: { type: 'ai_response', quantity: 2 },
        })
      ).status,
    ).toBe(201);

    const changed = secret('changed password', `changed-${randomBytes(6).toString('hex')}`);
    const change = await call('POST', '/v1/auth/password', { token, body: { currentPassword: owner, newPassword: changed } });
    expect(change.status).toBe(200);
    token = secret('session after the change', change.body.token);
    expect((await call('POST', '/v1/auth/password-reset', { body: { email: clientEmail } })).status).toBe(202);
    const reset = secret('reset token', await client.emailedToken(clientEmail, /reset/i));
    const afterReset = secret('password after the reset', `reset-${randomBytes(6).toString('hex')}`);
    expect(
      (await call('POST', '/v1/auth/password-reset/confirm', { body: { token: reset, newPassword: afterReset } })).status,
    ).toBe(204);
    expect((await call('POST', '/v1/auth/logout', { token })).status).toBe(204);

    // Every email out (the credentials one carries the generated password), then a clean stop.
    await until(async () => (await client.emailsTo(clientEmail)).length >= 2, 'the credentials and reset emails');
    await sleep(1000);
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    const stored = JSON.parse(readFileSync(join(dir, '.data/local-secrets.json'), 'utf8'));
    secret('token signing secret', stored.tokenSecret);
    secret('local encryption key', stored.encryptionKey);

    const lines = output.split('\n');
    // The capture is real: request lines, handler lines at every level asked for, the notifier's.
    expect(lines.some((l) => l.includes('POST /v1/auth/login → 401'))).toBe(true);
    expect(lines.some((l) => l.includes('"message":"outbox event delivered"'))).toBe(true);
    expect(lines.some((l) => l.includes('"Debits"'))).toBe(true);
    const leaks = [...secrets].flatMap(([name, value]) =>
      lines.filter((l) => l.includes(value)).map((l) => `${name} in: ${l.slice(0, 300)}`),
    );
    expect(leaks).toEqual([]);
    const withKey = lines.filter((l) => l.includes(platformKey));
    expect(withKey).toEqual([`  Platform key    ${platformKey}`]);
    console.log(`log secrets: ${lines.length} lines checked for ${secrets.size + 1} secrets`);
  }, 180_000);
});
