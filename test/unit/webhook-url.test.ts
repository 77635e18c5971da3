/**
 * Saving a webhook URL (syntax, scheme, host) and checking where it resolves. Resolution is
 * stubbed: no test here sends a packet anywhere (the one real-resolver case asks for
 * localhost, which /etc/hosts answers).
 */
import { describe, expect, it, vi } from 'vitest';
import { checkWebhookUrl, MAX_WEBHOOK_URL_LENGTH, type Resolver, resolveAndCheck } from '#domain/webhooks/webhook-url';

const answers =
  (...addresses: string[]): Resolver =>
  async () =>
    addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

describe('checkWebhookUrl', () => {
  it.each([
    ['not a url', 'malformed'],
    ['https://', 'malformed'],
    ['//example.com/hook', 'malformed'],
    [`https://example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}`, 'too_long'],
    ['http://example.com/hook', 'scheme'],
    ['ftp://example.com/hook', 'scheme'],
    ['javascript:alert(1)', 'scheme'],
    ['ws://example.com/hook', 'scheme'],
    ['https://user:pass@example.com/hook', 'credentials'],
    ['https://user@example.com/hook', 'credentials'],
    ['https://:pass@example.com/hook', 'credentials'],
    ['https://example.com/hook#part', 'fragment'],
    ['https://example.com/hook#', 'fragment'],
    ['https://example.com:0/hook', 'port'],
    ['https://intranet/hook', 'hostname'],
    ['https://localhost/hook', 'hostname'],
    ['https://api.localhost/hook', 'hostname'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'hostname'],
    ['https://printer.local/hook', 'hostname'],
    ['https://router.home.arpa/hook', 'hostname'],
    ['https://example.com./hook', 'hostname'],
    ['https://under_score.example.com/hook', 'hostname'],
    ['https://-lead.example.com/hook', 'hostname'],
    [`https://${'a'.repeat(64)}.example.com/hook`, 'hostname'],
  ])('refuses %s: %s', (url, reason) => {
    expect(checkWebhookUrl(url)).toMatchObject({ ok: false, problem: { reason } });
  });

  it('accepts https to a public name, any port, query, an IDN and an encoded #', () => {
    for (const url of [
      'https://hooks.example.com/recharge',
      'HTTPS://Hooks.Example.COM:8443/a/b?c=d&e=f',
      'https://hooks.example.com:65535/',
      'https://bücher.example.com/hook',
      'https://hooks.example.com/a%23b',
      `https://example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH - 'https://example.com/'.length)}`,
    ])
      expect(checkWebhookUrl(url), url).toMatchObject({ ok: true });
    const idn = checkWebhookUrl('https://bücher.example.com/hook');
    expect(idn.ok && idn.url.hostname).toBe('xn--bcher-kva.example.com');
  });

  it('never echoes credentials in its message', () => {
    const result = checkWebhookUrl('https://admin:s3cret@example.com/');
    expect(JSON.stringify(result)).not.toContain('s3cret');
  });

  it('lets loopback through only with allowLoopbackHttp, and only 127.0.0.1, ::1 and localhost', () => {
    const local = { allowLoopbackHttp: true };
    for (const url of [
      'http://127.0.0.1:3000/hook',
      'http://[::1]:3000/hook',
      'http://localhost:3000/hook',
      'https://127.0.0.1/hook',
      'http://0x7f.1/',
    ]) {
      expect(checkWebhookUrl(url, local), url).toMatchObject({ ok: true });
      expect(checkWebhookUrl(url), url).toMatchObject({ ok: false });
    }
    expect(checkWebhookUrl('http://127.0.0.2/', local)).toMatchObject({ ok: false, problem: { reason: 'scheme' } });
    expect(checkWebhookUrl('https://127.0.0.2/', local)).toMatchObject({
      ok: false,
      problem: { address: { refusal: 'loopback' } },
    });
    expect(checkWebhookUrl('http://localhost.:3000/', local)).toMatchObject({ ok: false, problem: { reason: 'scheme' } });
    expect(checkWebhookUrl('http://10.0.0.1/', local)).toMatchObject({ ok: false, problem: { reason: 'scheme' } });
    expect(checkWebhookUrl('https://10.0.0.1/', local)).toMatchObject({
      ok: false,
      problem: { address: { refusal: 'private' } },
    });
    expect(checkWebhookUrl('http://user:pw@127.0.0.1/', local)).toMatchObject({ ok: false, problem: { reason: 'credentials' } });
  });
});

describe('resolveAndCheck', () => {
  it('pins every public address a name resolves to, in the resolver order', async () => {
    const resolver = vi.fn(answers('93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946'));
    const result = await resolveAndCheck('https://Hooks.Example.com/x', { resolver });
    expect(resolver).toHaveBeenCalledWith('hooks.example.com');
    expect(result.ok && result.target.addresses).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 },
    ]);
  });

  it.each([
    [['10.0.0.1'], 'private'],
    [['93.184.216.34', '10.0.0.1'], 'private'],
    [['10.0.0.1', '93.184.216.34'], 'private'],
    [['169.254.169.254'], 'cloud_metadata'],
    [['fd00:ec2::254'], 'cloud_metadata'],
    [['::ffff:169.254.169.254'], 'ipv4_mapped'],
    [['93.184.216.34', '::1'], 'loopback'],
    [['64:ff9b::a00:1'], 'embedded_ipv4'],
    [['0.0.0.0'], 'unspecified'],
  ])('refuses a name resolving to %j (%s)', async (addresses, refusal) => {
    const result = await resolveAndCheck('https://hooks.example.com/', { resolver: answers(...addresses) });
    expect(result).toMatchObject({ ok: false, problem: { reason: 'address', address: { refusal } } });
    expect(!result.ok && result.problem.message).toMatch(/^host hooks\.example\.com resolves to /);
  });

  it('refuses when the name cannot be resolved, with the reason', async () => {
    const notFound: Resolver = async () => {
      throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
    };
    expect(await resolveAndCheck('https://hooks.example.com/', { resolver: notFound })).toMatchObject({
      ok: false,
      problem: { reason: 'resolution_failed', message: 'host hooks.example.com could not be resolved (ENOTFOUND)' },
    });
    expect(await resolveAndCheck('https://hooks.example.com/', { resolver: answers() })).toMatchObject({
      ok: false,
      problem: { reason: 'resolution_failed', message: 'host hooks.example.com has no addresses' },
    });
    expect(await resolveAndCheck('https://hooks.example.com/', { resolver: answers('not-an-ip') })).toMatchObject({
      ok: false,
      problem: { reason: 'resolution_failed' },
    });
    const never: Resolver = () => new Promise(() => {});
    expect(await resolveAndCheck('https://hooks.example.com/', { resolver: never, timeoutMs: 20 })).toMatchObject({
      ok: false,
      problem: { reason: 'resolution_failed', message: expect.stringContaining('ETIMEOUT') },
    });
  });

  it('does not resolve a literal host, nor a URL refused on syntax', async () => {
    const resolver = vi.fn(answers('10.0.0.1'));
    expect(await resolveAndCheck('https://8.8.8.8:8443/x', { resolver })).toMatchObject({
      ok: true,
      target: { addresses: [{ address: '8.8.8.8', family: 4 }] },
    });
    expect(await resolveAndCheck('https://[2606:4700:4700::1111]/', { resolver })).toMatchObject({
      ok: true,
      target: { addresses: [{ address: '2606:4700:4700::1111', family: 6 }] },
    });
    expect(await resolveAndCheck('https://0xa9fea9fe/', { resolver })).toMatchObject({
      ok: false,
      problem: { reason: 'address' },
    });
    expect(await resolveAndCheck('http://hooks.example.com/', { resolver })).toMatchObject({
      ok: false,
      problem: { reason: 'scheme' },
    });
    expect(resolver).not.toHaveBeenCalled();
  });

  it('pins what the check saw, so a rebinding answer later changes nothing already pinned', async () => {
    let calls = 0;
    const rebinding: Resolver = async () => [{ address: ++calls === 1 ? '93.184.216.34' : '10.0.0.1', family: 4 }];
    const first = await resolveAndCheck('https://rebind.example.com/', { resolver: rebinding });
    const second = await resolveAndCheck('https://rebind.example.com/', { resolver: rebinding });
    expect(first).toMatchObject({ ok: true, target: { addresses: [{ address: '93.184.216.34' }] } });
    expect(second).toMatchObject({ ok: false, problem: { address: { refusal: 'private', address: '10.0.0.1' } } });
    expect(first.ok && first.target.addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
  });

  it('lets local localhost resolve only to loopback', async () => {
    const local = { allowLoopbackHttp: true };
    expect(await resolveAndCheck('http://localhost:3000/', { ...local, resolver: answers('127.0.0.1', '::1') })).toMatchObject({
      ok: true,
    });
    for (const address of ['10.0.0.1', '93.184.216.34'])
      expect(
        await resolveAndCheck('http://localhost:3000/', { ...local, resolver: answers('127.0.0.1', address) }),
      ).toMatchObject({
        ok: false,
        problem: { reason: 'hostname' },
      });
    // The system resolver answers localhost from /etc/hosts.
    const real = await resolveAndCheck('http://localhost:3000/', local);
    expect(real.ok).toBe(true);
    expect(real.ok && real.target.addresses.every((a) => a.address === '127.0.0.1' || a.address === '::1')).toBe(true);
  });
});
