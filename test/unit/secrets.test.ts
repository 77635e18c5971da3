import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, vi } from 'vitest';

/**
 * Deployed, secrets come from the Parameters and Secrets Lambda extension: a localhost HTTP
 * call authenticated with the function's session token, asking for a version stage. Here the
 * extension is a server on loopback.
 */
describe('secret()', () => {
  it('asks the extension for the ARN and stage with the session token, once per container', async () => {
    const seen: IncomingMessage[] = [];
    const server = createServer((req, res) => {
      seen.push(req);
      const stage = new URL(req.url ?? '', 'http://x').searchParams.get('versionStage');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ SecretString: stage === 'AWSPREVIOUS' ? 'old-value' : 'current-value' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    vi.stubEnv('PARAMETERS_SECRETS_EXTENSION_HTTP_PORT', String(port));
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-token-1');
    vi.stubEnv('TEST_SECRET_ARN', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:test-AbCdEf');
    vi.resetModules();
    const { secret } = await import('#core/env');

    expect(await secret('TEST_SECRET')).toBe('current-value');
    expect(await secret('TEST_SECRET')).toBe('current-value');
    expect(await secret('TEST_SECRET', 'AWSPREVIOUS')).toBe('old-value');
    server.close();
    vi.unstubAllEnvs();

    expect(seen).toHaveLength(2);
    const first = new URL(seen[0]?.url ?? '', 'http://x');
    expect(first.pathname).toBe('/secretsmanager/get');
    expect(first.searchParams.get('secretId')).toBe('arn:aws:secretsmanager:eu-west-1:123456789012:secret:test-AbCdEf');
    expect(first.searchParams.get('versionStage')).toBe('AWSCURRENT');
    expect(seen[0]?.headers['x-aws-parameters-secrets-token']).toBe('session-token-1');
  });

  it('reads the variable itself locally (no ARN), and NAME_PREVIOUS for the previous stage', async () => {
    vi.stubEnv('LOCAL_ONLY', 'local-value');
    vi.stubEnv('LOCAL_ONLY_PREVIOUS', 'previous-local');
    vi.resetModules();
    const { secret } = await import('#core/env');
    expect(await secret('LOCAL_ONLY')).toBe('local-value');
    expect(await secret('LOCAL_ONLY', 'AWSPREVIOUS')).toBe('previous-local');
    vi.unstubAllEnvs();
  });
});
