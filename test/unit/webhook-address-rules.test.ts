/**
 * Which addresses a webhook may target, by literal tables only: nothing here opens a socket.
 * Each refused URL goes through the same path a saved URL does (WHATWG parsing, then the
 * rules), so odd IPv4 spellings are tested as an agency would type them.
 */
import { describe, expect, it } from 'vitest';
import { type AddressRefusal, checkAddress, parseIp, parseIpv4, parseIpv6 } from '#domain/webhooks/address-rules';
import { checkWebhookUrl } from '#domain/webhooks/webhook-url';

const refused: [url: string, refusal: AddressRefusal][] = [
  // IPv4 spellings WHATWG normalizes to 127.0.0.1 and friends
  ['https://127.0.0.1/', 'loopback'],
  ['https://2130706433/', 'loopback'],
  ['https://0177.0.0.1/', 'loopback'],
  ['https://127.1/', 'loopback'],
  ['https://0x7f000001/', 'loopback'],
  ['https://0x7f.1/', 'loopback'],
  ['https://0x7F.0.0.0x1/', 'loopback'],
  ['https://127.0.0.1./', 'loopback'],
  ['https://１２７.０.０.１/', 'loopback'],
  ['https://127.255.255.254/', 'loopback'],
  ['https://0/', 'unspecified'],
  ['https://0.0.0.0/', 'unspecified'],
  ['https://0x.0x.0x.0x/', 'unspecified'],
  ['https://0.1.2.3/', 'this_network'],
  ['https://10.0.0.1/', 'private'],
  ['https://012.0.0.1/', 'private'],
  ['https://167772161/', 'private'],
  ['https://10.255.255.255/', 'private'],
  ['https://172.16.0.1/', 'private'],
  ['https://172.31.255.255/', 'private'],
  ['https://192.168.0.1/', 'private'],
  ['https://192.168.255.255/', 'private'],
  ['https://100.64.0.1/', 'cgnat'],
  ['https://100.127.255.255/', 'cgnat'],
  ['https://169.254.0.1/', 'link_local'],
  ['https://169.254.255.255/', 'link_local'],
  ['https://169.254.169.254/', 'cloud_metadata'],
  ['https://0xa9fea9fe/', 'cloud_metadata'],
  ['https://2852039166/', 'cloud_metadata'],
  ['https://169.254.170.2/', 'cloud_metadata'],
  ['https://168.63.129.16/', 'cloud_metadata'],
  ['https://100.100.100.200/', 'cloud_metadata'],
  ['https://192.0.0.192/', 'cloud_metadata'],
  ['https://192.0.0.8/', 'reserved'],
  ['https://192.0.2.1/', 'documentation'],
  ['https://198.51.100.7/', 'documentation'],
  ['https://203.0.113.9/', 'documentation'],
  ['https://198.18.0.1/', 'benchmarking'],
  ['https://198.19.255.255/', 'benchmarking'],
  ['https://192.88.99.1/', 'reserved'],
  ['https://224.0.0.1/', 'multicast'],
  ['https://239.255.255.250/', 'multicast'],
  ['https://240.0.0.1/', 'reserved'],
  ['https://255.255.255.254/', 'reserved'],
  ['https://255.255.255.255/', 'broadcast'],
  // IPv6
  ['https://[::1]/', 'loopback'],
  ['https://[0:0:0:0:0:0:0:1]/', 'loopback'],
  ['https://[::]/', 'unspecified'],
  ['https://[::ffff:127.0.0.1]/', 'ipv4_mapped'],
  ['https://[::ffff:7f00:1]/', 'ipv4_mapped'],
  ['https://[::ffff:a9fe:a9fe]/', 'ipv4_mapped'],
  ['https://[::ffff:8.8.8.8]/', 'ipv4_mapped'], // even a public one: nothing legitimate is spelled so
  ['https://[::127.0.0.1]/', 'ipv4_mapped'],
  ['https://[::ffff:0:a00:1]/', 'reserved'],
  ['https://[fe80::1]/', 'link_local'],
  ['https://[febf:ffff::1]/', 'link_local'],
  ['https://[fd00::1]/', 'unique_local'],
  ['https://[fc00::1]/', 'unique_local'],
  ['https://[fd00:ec2::254]/', 'cloud_metadata'],
  ['https://[fec0::1]/', 'reserved'],
  ['https://[ff02::1]/', 'multicast'],
  ['https://[ff0e::1]/', 'multicast'],
  ['https://[100::1]/', 'reserved'],
  ['https://[64:ff9b::a00:1]/', 'embedded_ipv4'], // NAT64 of 10.0.0.1
  ['https://[64:ff9b::7f00:1]/', 'embedded_ipv4'], // NAT64 of 127.0.0.1
  ['https://[64:ff9b::a9fe:a9fe]/', 'embedded_ipv4'], // NAT64 of 169.254.169.254
  ['https://[64:ff9b:1::a00:1]/', 'reserved'], // local-use NAT64
  ['https://[2002:0a00:0001::]/', 'embedded_ipv4'], // 6to4 of 10.0.0.1
  ['https://[2002:7f00:1::1]/', 'embedded_ipv4'], // 6to4 of 127.0.0.1
  ['https://[2002:c0a8:101::1]/', 'embedded_ipv4'], // 6to4 of 192.168.1.1
  ['https://[2002:6440:1::1]/', 'embedded_ipv4'], // 6to4 of 100.64.0.1
  ['https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/', 'reserved'], // Teredo
  ['https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/', 'reserved'], // Teredo, client 10.0.0.1 obfuscated
  ['https://[2001:2::1]/', 'benchmarking'],
  ['https://[2001:10::1]/', 'reserved'],
  ['https://[2001:db8::1]/', 'documentation'],
  ['https://[3fff::1]/', 'documentation'],
  ['https://[4000::1]/', 'reserved'],
  ['https://[8000::1]/', 'reserved'],
];

// Public addresses, as literals only: never connected to.
const allowed = [
  'https://8.8.8.8/',
  'https://1.1.1.1:8443/webhooks?x=1',
  'https://93.184.216.34/',
  'https://1.0.0.0/',
  'https://9.255.255.255/',
  'https://11.0.0.0/',
  'https://100.63.255.255/',
  'https://100.128.0.0/',
  'https://126.255.255.255/',
  'https://128.0.0.0/',
  'https://169.253.255.255/',
  'https://169.255.0.0/',
  'https://172.15.255.255/',
  'https://172.32.0.0/',
  'https://192.167.255.255/',
  'https://192.169.0.0/',
  'https://198.17.255.255/',
  'https://198.20.0.0/',
  'https://223.255.255.255/',
  'https://134744072/', // 8.8.8.8
  'https://[2606:4700:4700::1111]/',
  'https://[2001:4860:4860::8888]/',
  'https://[2a00:1450:4001:80b::200e]/',
  'https://[2001:200::1]/', // just past 2001::/23
  'https://[2001:db7:ffff::1]/', // just before 2001:db8::/32
  'https://[2001:db9::1]/',
  'https://[3ffe:ffff::1]/',
  'https://[64:ff9b::808:808]/', // NAT64 of 8.8.8.8
  'https://[2002:808:808::1]/', // 6to4 of 8.8.8.8
];

describe('webhook address rules', () => {
  it.each(refused)('refuses %s (%s)', (url, refusal) => {
    const result = checkWebhookUrl(url);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problem.reason).toBe('address');
    expect(result.problem.address?.refusal).toBe(refusal);
    expect(result.problem.message).toMatch(/^host \S+ is .+/);
  });

  it.each(allowed)('allows %s', (url) => {
    expect(checkWebhookUrl(url)).toMatchObject({ ok: true });
  });

  it('judges a literal the same as written directly and in a URL', () => {
    for (const [url, refusal] of refused) {
      const host = new URL(url).hostname;
      expect(checkAddress(host)).toMatchObject({ allowed: false, reason: refusal });
    }
    for (const url of allowed) expect(checkAddress(new URL(url).hostname)).toMatchObject({ allowed: true });
  });

  it('names the embedded IPv4 address and its range', () => {
    expect(checkAddress('64:ff9b::a00:1')).toMatchObject({
      message: '64:ff9b::a00:1 is a NAT64 address for 10.0.0.1, a private network (10.0.0.0/8)',
    });
    expect(checkAddress('2002:a9fe:a9fe::')).toMatchObject({
      message: expect.stringContaining('169.254.169.254, the cloud instance metadata service'),
    });
  });

  it('parses every IPv4 spelling inet_aton accepts, and nothing else', () => {
    const spellings: [string, string | undefined][] = [
      ['127.0.0.1', '127.0.0.1'],
      ['2130706433', '127.0.0.1'],
      ['0177.0.0.1', '127.0.0.1'],
      ['0x7f.1', '127.0.0.1'],
      ['127.1', '127.0.0.1'],
      ['127.0.1', '127.0.0.1'],
      ['0x7f000001', '127.0.0.1'],
      ['0X7F.0.0.01', '127.0.0.1'],
      ['0', '0.0.0.0'],
      ['0x', '0.0.0.0'],
      ['4294967295', '255.255.255.255'],
      ['4294967296', undefined],
      ['256.0.0.1', undefined],
      ['1.2.65535', '1.2.255.255'],
      ['1.16777215', '1.255.255.255'],
      ['1.16777216', undefined],
      ['1.256.1', undefined],
      ['1.2.3.4.5', undefined],
      ['08.0.0.1', undefined],
      ['1..1', undefined],
      ['1.2.3.', undefined],
      ['', undefined],
      ['-1', undefined],
      [' 1.2.3.4', '1.2.3.4'],
      ['1.2.3.4 x', undefined],
      ['example.com', undefined],
    ];
    for (const [input, expected] of spellings) expect(parseIp(input)?.text, input).toBe(expected);
    expect(parseIpv4('1.2.65535')).toBe(0x0102ffff);
  });

  it('parses IPv6 forms and refuses malformed ones', () => {
    expect(parseIpv6('::')).toBe(0n);
    expect(parseIpv6('::1')).toBe(1n);
    expect(parseIpv6('[::1]')).toBe(1n);
    expect(parseIpv6('1:2:3:4:5:6:7:8')).toBe(0x00010002000300040005000600070008n);
    expect(parseIpv6('1::8')).toBe(0x00010000000000000000000000000008n);
    expect(parseIpv6('1:2:3:4:5:6:7::')).toBe(0x00010002000300040005000600070000n);
    expect(parseIpv6('::ffff:127.0.0.1')).toBe(0xffff7f000001n);
    expect(parseIpv6('::FFFF:7F00:1')).toBe(0xffff7f000001n);
    for (const bad of [
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2::3',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      'fe80::1%eth0',
      '::ffff:1.2.3',
      '::ffff:1.2.3.256',
      '::ffff:0177.0.0.1',
      '::ffff:017.0.0.1',
      'g::1',
      ':1',
      '1:',
    ])
      expect(parseIpv6(bad), bad).toBeUndefined();
    expect(checkAddress('fe80::1%eth0')).toMatchObject({ allowed: false, reason: 'invalid_address' });
  });
});
