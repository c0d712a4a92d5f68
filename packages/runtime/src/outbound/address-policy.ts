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
 * Why an address is refused, or `undefined` when it may be reached. Anything ipaddr.js does not
 * classify as plain `unicast` is refused: loopback, private, link-local, unique-local,
 * IPv4-mapped and other IPv4-embedding IPv6 forms, 0.0.0.0, multicast, broadcast, reserved.
 */
export function refusalReason(list: AllowList, address: string): string | undefined {
  if (!ipaddr.isValid(address)) return `"${address}" is not an IP address`;
  const addr = ipaddr.parse(address);
  if (list.ranges.some(([net, bits]) => net.kind() === addr.kind() && addr.match(net, bits))) return undefined;
  // An IPv4-mapped address is checked as the IPv4 address it carries, so an allowed IPv4 range
  // also allows its mapped form, and a refused one is never reachable through it.
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    const v4 = (addr as ipaddr.IPv6).toIPv4Address();
    if (list.ranges.some(([net, bits]) => net.kind() === 'ipv4' && v4.match(net, bits))) return undefined;
    return `${address} is an IPv4-mapped address (${v4.toString()})`;
  }
  const range = addr.range();
  if (range === 'unicast') return undefined;
  return `${address} is a ${range} address`;
}
