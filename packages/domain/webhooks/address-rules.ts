/**
 * Which IP addresses an outgoing webhook may connect to. An agency chooses the URL, so without
 * these rules it could aim our servers at our own network (SSRF): the cloud metadata service,
 * the VPC, loopback services. Pure functions, no I/O: `webhook-url.ts` applies them to literal
 * hosts and to every resolved address, `deliver.ts` connects only to addresses that passed.
 *
 * IPv4 is a short list of refused ranges (IANA special-purpose registry); IPv6 is an allow
 * list — only global unicast (2000::/3) minus its special blocks — because most of the v6
 * space outside it is reserved or local. Addresses that embed an IPv4 address (IPv4-mapped,
 * IPv4-compatible, NAT64, 6to4, Teredo) are judged so that no embedding reaches a refused v4.
 */

export type IpAddress = { family: 4; value: number; text: string } | { family: 6; value: bigint; text: string };

/** Stable codes; the route answers 400 `invalid_webhook_url` naming one of them. */
export type AddressRefusal =
  | 'invalid_address'
  | 'unspecified'
  | 'this_network'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link_local'
  | 'unique_local'
  | 'cloud_metadata'
  | 'multicast'
  | 'broadcast'
  | 'documentation'
  | 'benchmarking'
  | 'reserved'
  | 'ipv4_mapped'
  | 'embedded_ipv4';

export type AddressVerdict =
  | { allowed: true; ip: IpAddress }
  | { allowed: false; reason: AddressRefusal; message: string; ip?: IpAddress };

/**
 * One IPv4 address in any spelling `inet_aton` (and so the WHATWG URL parser and most HTTP
 * clients) accepts: 1 to 4 parts, each decimal, octal (`0177`) or hex (`0x7f`), the last part
 * filling the remaining bytes (`127.1`, `2130706433`). Returns the address as a uint32.
 */
export function parseIpv4(input: string): number | undefined {
  const parts = input.split('.');
  if (parts.length > 4) return undefined;
  const values: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = Number.parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return undefined;
    values.push(value);
  }
  const last = values.pop() as number;
  if (values.some((v) => v > 255) || last >= 2 ** (8 * (5 - parts.length))) return undefined;
  let result = last;
  values.forEach((v, i) => {
    result += v * 2 ** (8 * (3 - i));
  });
  return result;
}

/** One IPv6 address (brackets allowed, a dotted IPv4 tail allowed, zone ids refused) as a 128-bit integer. */
export function parseIpv6(input: string): bigint | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  const groups: number[] = [];
  const dotted = text.lastIndexOf('.') >= 0 ? text.slice(text.lastIndexOf(':') + 1) : undefined;
  if (dotted !== undefined) {
    if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(dotted)) return undefined;
    const v4 = dotted.split('.').map(Number);
    if (v4.some((b) => b > 255)) return undefined;
    text = `${text.slice(0, -dotted.length)}${(((v4[0] as number) << 8) | (v4[1] as number)).toString(16)}:${(((v4[2] as number) << 8) | (v4[3] as number)).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const hextets = (s: string) => (s === '' ? [] : s.split(':'));
  const head = hextets(halves[0] as string);
  const tail = halves.length === 2 ? hextets(halves[1] as string) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  for (const h of [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail]) {
    if (!/^[0-9a-f]{1,4}$/i.test(h)) return undefined;
    groups.push(Number.parseInt(h, 16));
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

/** Parses either family; `text` is the canonical dotted quad for v4, the lower-cased input for v6. */
export function parseIp(input: string): IpAddress | undefined {
  const trimmed = input.trim().toLowerCase();
  if (trimmed.includes(':')) {
    const value = parseIpv6(trimmed);
    return value === undefined ? undefined : { family: 6, value, text: trimmed.replace(/^\[|\]$/g, '') };
  }
  const value = parseIpv4(trimmed);
  return value === undefined ? undefined : { family: 4, value, text: formatIpv4(value) };
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}

interface Range<T> {
  network: T;
  prefix: number;
  reason: AddressRefusal;
  label: string;
}

function v4(cidr: string, reason: AddressRefusal, label: string): Range<number> {
  const [address, prefix = '32'] = cidr.split('/');
  return { network: parseIpv4(address as string) as number, prefix: Number(prefix), reason, label };
}

function v6(cidr: string, reason: AddressRefusal, label: string): Range<bigint> {
  const [address, prefix = '128'] = cidr.split('/');
  return { network: parseIpv6(address as string) as bigint, prefix: Number(prefix), reason, label };
}

const inV4 = (value: number, r: Range<number>) => r.prefix === 0 || value >>> (32 - r.prefix) === r.network >>> (32 - r.prefix);
const inV6 = (value: bigint, r: Range<bigint>) => value >> BigInt(128 - r.prefix) === r.network >> BigInt(128 - r.prefix);

// First match wins, so single addresses and narrow blocks come before the blocks holding them.
const refusedV4: Range<number>[] = [
  v4('169.254.169.254', 'cloud_metadata', 'the cloud instance metadata service'),
  v4('169.254.170.2', 'cloud_metadata', 'the container metadata service'),
  v4('168.63.129.16', 'cloud_metadata', 'the Azure platform endpoint'),
  v4('100.100.100.200', 'cloud_metadata', 'the Alibaba Cloud metadata service'),
  v4('192.0.0.192', 'cloud_metadata', 'the Oracle Cloud metadata service'),
  v4('0.0.0.0', 'unspecified', 'the unspecified address'),
  v4('0.0.0.0/8', 'this_network', '"this network" (0.0.0.0/8)'),
  v4('10.0.0.0/8', 'private', 'a private network (10.0.0.0/8)'),
  v4('100.64.0.0/10', 'cgnat', 'carrier-grade NAT space (100.64.0.0/10)'),
  v4('127.0.0.0/8', 'loopback', 'loopback (127.0.0.0/8)'),
  v4('169.254.0.0/16', 'link_local', 'link-local (169.254.0.0/16)'),
  v4('172.16.0.0/12', 'private', 'a private network (172.16.0.0/12)'),
  v4('192.0.0.0/24', 'reserved', 'IETF protocol assignments (192.0.0.0/24)'),
  v4('192.0.2.0/24', 'documentation', 'documentation space (192.0.2.0/24)'),
  v4('192.88.99.0/24', 'reserved', 'the deprecated 6to4 relay anycast (192.88.99.0/24)'),
  v4('192.168.0.0/16', 'private', 'a private network (192.168.0.0/16)'),
  v4('198.18.0.0/15', 'benchmarking', 'benchmarking space (198.18.0.0/15)'),
  v4('198.51.100.0/24', 'documentation', 'documentation space (198.51.100.0/24)'),
  v4('203.0.113.0/24', 'documentation', 'documentation space (203.0.113.0/24)'),
  v4('224.0.0.0/4', 'multicast', 'multicast (224.0.0.0/4)'),
  v4('255.255.255.255', 'broadcast', 'the broadcast address'),
  v4('240.0.0.0/4', 'reserved', 'reserved space (240.0.0.0/4)'),
];

const refusedV6: Range<bigint>[] = [
  v6('fd00:ec2::254', 'cloud_metadata', 'the cloud instance metadata service'),
  v6('::', 'unspecified', 'the unspecified address'),
  v6('::1', 'loopback', 'loopback (::1)'),
  v6('::ffff:0:0/96', 'ipv4_mapped', 'an IPv4-mapped address (::ffff:0:0/96)'),
  v6('::/96', 'ipv4_mapped', 'an IPv4-compatible address (::/96)'),
  v6('64:ff9b:1::/48', 'reserved', 'local-use NAT64 (64:ff9b:1::/48)'),
  v6('100::/64', 'reserved', 'discard-only space (100::/64)'),
  v6('2001:2::/48', 'benchmarking', 'benchmarking space (2001:2::/48)'),
  v6('2001::/32', 'reserved', 'Teredo (2001::/32)'),
  v6('2001::/23', 'reserved', 'IETF protocol assignments (2001::/23)'),
  v6('2001:db8::/32', 'documentation', 'documentation space (2001:db8::/32)'),
  v6('3fff::/20', 'documentation', 'documentation space (3fff::/20)'),
  v6('fc00::/7', 'unique_local', 'unique-local (fc00::/7)'),
  v6('fe80::/10', 'link_local', 'link-local (fe80::/10)'),
  v6('fec0::/10', 'reserved', 'deprecated site-local (fec0::/10)'),
  v6('ff00::/8', 'multicast', 'multicast (ff00::/8)'),
];

// Blocks whose addresses carry an IPv4 address a gateway would forward to: refused when it is.
const embeddingV6: { range: Range<bigint>; name: string; extract: (value: bigint) => number }[] = [
  { range: v6('64:ff9b::/96', 'embedded_ipv4', 'NAT64'), name: 'NAT64', extract: (v) => Number(v & 0xffffffffn) },
  { range: v6('2002::/16', 'embedded_ipv4', '6to4'), name: '6to4', extract: (v) => Number((v >> 80n) & 0xffffffffn) },
];
const globalUnicast = v6('2000::/3', 'reserved', 'global unicast');

export function checkIp(ip: IpAddress): AddressVerdict {
  const refuse = (reason: AddressRefusal, label: string): AddressVerdict => ({
    allowed: false,
    reason,
    message: `${ip.text} is ${label}`,
    ip,
  });
  if (ip.family === 4) {
    const range = refusedV4.find((r) => inV4(ip.value, r));
    return range ? refuse(range.reason, range.label) : { allowed: true, ip };
  }
  const range = refusedV6.find((r) => inV6(ip.value, r));
  if (range) return refuse(range.reason, range.label);
  for (const { range, name, extract } of embeddingV6) {
    if (!inV6(ip.value, range)) continue;
    const inner = extract(ip.value);
    const innerRange = refusedV4.find((r) => inV4(inner, r));
    return innerRange
      ? refuse('embedded_ipv4', `a ${name} address for ${formatIpv4(inner)}, ${innerRange.label}`)
      : { allowed: true, ip };
  }
  return inV6(ip.value, globalUnicast) ? { allowed: true, ip } : refuse('reserved', 'not a global unicast address (2000::/3)');
}

/** Parses and checks one address as written (any v4 spelling, v6 with or without brackets). */
export function checkAddress(input: string): AddressVerdict {
  const ip = parseIp(input);
  return ip
    ? checkIp(ip)
    : { allowed: false, reason: 'invalid_address', message: `${JSON.stringify(input)} is not an IP address` };
}

/** 127.0.0.0/8 or ::1: the only targets the local runtime's `allowLoopbackHttp` lets through. */
export function isLoopback(ip: IpAddress): boolean {
  return ip.family === 4 ? ip.value >>> 24 === 127 : ip.value === 1n;
}
