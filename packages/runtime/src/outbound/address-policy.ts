/**
 * Which addresses an outbound call may reach. Agents, MCP servers and `http.request` URLs come
 * from workflow authors, so without a policy a workflow could read cloud metadata
 * (169.254.169.254), the database on localhost, or anything on the private network (SSRF).
 * Only public unicast addresses are reachable unless `TRELLIS_ALLOW_HOSTS` names a host or CIDR.
 */
import { TrellisError } from '@trellis/core';
import ipaddr from 'ipaddr.js';

/** Hosts that `trellis run` and `serve --demo` allow so that local agents and tools work. */
export const LOOPBACK_ALLOW_HOSTS: readonly string[] = ['localhost', '127.0.0.0/8', '::1/128'];

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed allow list: host names (exact or `*.suffix`) and CIDR ranges. */
export interface AllowList {
  readonly hosts: readonly string[];
  readonly suffixes: readonly string[];
  readonly ranges: readonly [Address, number][];
}

/** Parses `TRELLIS_ALLOW_HOSTS` (comma separated); blanks are ignored. */
export function allowHostsFromEnv(env: Record<string, string | undefined> = process.env): string[] {
  return (env.TRELLIS_ALLOW_HOSTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Builds an allow list; an entry that is neither a host name, an IP nor a CIDR is refused. */
export function parseAllowList(entries: readonly string[]): AllowList {
  const hosts: string[] = [];
  const suffixes: string[] = [];
  const ranges: [Address, number][] = [];
  for (const raw of entries) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
    if (entry === '') continue;
    if (entry.includes('/')) {
      if (!ipaddr.isValidCIDR(entry)) throw invalidEntry(raw);
      ranges.push(ipaddr.parseCIDR(entry));
    } else if (ipaddr.isValid(entry)) {
      const addr = ipaddr.parse(entry);
      ranges.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
    } else if (entry.startsWith('*.') && isHostName(entry.slice(2))) {
      suffixes.push(entry.slice(1));
    } else if (isHostName(entry)) {
      hosts.push(entry);
    } else {
      throw invalidEntry(raw);
    }
  }
  return { hosts, suffixes, ranges };
}

function invalidEntry(raw: string): TrellisError {
  return new TrellisError(
    'CONFIG_INVALID',
    `TRELLIS_ALLOW_HOSTS entry "${raw}" is not a host name, *.domain, IP address or CIDR (e.g. 10.0.0.0/8)`,
    { category: 'user' },
  );
}

function isHostName(s: string): boolean {
  return /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(s);
}

/** True when the host name itself is allowed (then any address it resolves to is). */
export function isHostAllowed(list: AllowList, hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/\.$/, '');
  return list.hosts.includes(h) || list.suffixes.some((s) => h.endsWith(s));
}

/**
 * The IPv4 addresses an IPv6 address carries, by every standard embedding, or `[]` for a
 * plain IPv6 address. An address that embeds one is judged as that IPv4 address: otherwise
 * `[::127.0.0.1]` (normalised to `::7f00:1`) would reach loopback, and `64:ff9b::a9fe:a9fe`
 * cloud metadata through a NAT64 gateway.
 *
 * - IPv4-compatible `::/96` (deprecated, still routed by some stacks), IPv4-mapped
 *   `::ffff:0:0/96` and IPv4-translated `::ffff:0:0:0/96`: the last 32 bits;
 * - NAT64 well-known prefix `64:ff9b::/96`: the last 32 bits;
 * - NAT64 local-use prefix `64:ff9b:1::/48`: the operator picks the prefix length, so every
 *   RFC 6052 layout the address fits (/48, /56, /64, /96: the "u" octet, bits 64–71, is zero and
 *   the suffix after the IPv4 bits is zero) is a candidate, and all of them are checked;
 * - 6to4 `2002::/16`: bits 16–47;
 * - Teredo `2001::/32`: the server (bits 32–63) and the obfuscated client (bits 96–127, inverted).
 *
 * `::` and `::1` are the unspecified and loopback addresses, not embeddings.
 */
export function embeddedIPv4(addr: ipaddr.IPv6): ipaddr.IPv4[] {
  const b = addr.toByteArray();
  const at = (idx: number[], invert = false) =>
    new ipaddr.IPv4(idx.map((i) => (invert ? (b[i] ?? 0) ^ 0xff : (b[i] ?? 0))) as [number, number, number, number]);
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const last32 = [12, 13, 14, 15];
  const w = addr.parts;
  if (zero(0, 12)) return zero(12, 15) && (b[15] ?? 0) <= 1 ? [] : [at(last32)];
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return [at(last32)];
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && b[10] === 0 && b[11] === 0) return [at(last32)];
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 0 && zero(6, 12)) return [at(last32)];
  if (w[0] === 0x64 && w[1] === 0xff9b && w[2] === 1) {
    if (b[8] !== 0) return [new ipaddr.IPv4([0, 0, 0, 0])];
    const layouts: [number[], number][] = [
      [[6, 7, 9, 10], 11],
      [[7, 9, 10, 11], 12],
      [[9, 10, 11, 12], 13],
      [last32, 16],
    ];
    return layouts.filter(([, suffix]) => zero(suffix, 16)).map(([idx]) => at(idx));
  }
  if (w[0] === 0x2002) return [at([2, 3, 4, 5])];
  if (w[0] === 0x2001 && w[1] === 0) return [at([4, 5, 6, 7]), at(last32, true)];
  return [];
}

function inRanges(list: AllowList, addr: Address): boolean {
  return list.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits));
}

/**
 * Why an address is refused, or `undefined` when it may be reached. Anything ipaddr.js does not
 * classify as plain `unicast` is refused — loopback, private, link-local, unique-local,
 * 0.0.0.0, multicast, broadcast, reserved — and an IPv6 address that embeds an IPv4 address
 * (see `embeddedIPv4`) is judged by the IPv4 addresses it carries: allowed when the IPv6
 * address itself or every one of them is in an allowed range or public.
 */
export function refusalReason(list: AllowList, address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  const addr = ipaddr.parse(address);
  if (inRanges(list, addr)) return undefined;
  if (addr.kind() === 'ipv6') {
    const carried = embeddedIPv4(addr as ipaddr.IPv6);
    if (carried.length > 0) {
      for (const v4 of carried) {
        if (inRanges(list, v4)) continue;
        const range = v4.range();
        if (range !== 'unicast') return `${address} carries the IPv4 address ${v4.toString()}, ${article(range)} address`;
      }
      return undefined;
    }
  }
  const range = addr.range();
  if (range === 'unicast') return undefined;
  return `${address} is ${article(range)} address`;
}

function article(word: string): string {
  return /^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`;
}
