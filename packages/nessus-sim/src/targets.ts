import { isIPv6 } from 'node:net';

/** Nessus scans at most this many addresses per simulated scan (docs/simulator.md, "Control surface"). */
export const MAX_SCAN_HOSTS = 4096;

export interface ScanTarget {
  /** What the ReportHost is named after: the address, or the host name as given. */
  readonly name: string;
  /** `host-ip` of the ReportHost. */
  readonly ip: string;
  /** Set for host-name targets (emitted as `host-fqdn`). */
  readonly fqdn?: string;
}

export interface ExpandedTargets {
  readonly hosts: readonly ScanTarget[];
  /** The tokens as given, in order; the export's `TARGET` preference lists them. */
  readonly tokens: readonly string[];
  /** True when expansion stopped at MAX_SCAN_HOSTS. */
  readonly capped: boolean;
}

export class TargetError extends Error {
  override readonly name = 'TargetError';
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HOST_NAME = /^(?=.{1,253}$)(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$/;

function parseIpv4(text: string): number | undefined {
  const match = IPV4.exec(text);
  if (!match) return undefined;
  let value = 0;
  for (const part of match.slice(1)) {
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/**
 * Host names are not resolved (no DNS here): they get a stable address from 198.18.0.0/15, the
 * range RFC 2544 sets aside for benchmarks, so `host-ip` is always a valid IPv4 address.
 */
export function syntheticAddress(hostName: string): string {
  let hash = 2166136261;
  for (const char of hostName.toLowerCase()) {
    hash = Math.imul(hash ^ char.charCodeAt(0), 16777619) >>> 0;
  }
  return formatIpv4(((198 << 24) >>> 0) + (18 << 16) + (hash % (2 * 65536)));
}

function ipv4Span(token: string): [number, number] | undefined {
  const slash = token.indexOf('/');
  if (slash >= 0) {
    const base = parseIpv4(token.slice(0, slash));
    const bitsText = token.slice(slash + 1);
    if (base === undefined || !/^\d{1,2}$/.test(bitsText) || Number(bitsText) > 32) {
      throw new TargetError(`targets: '${token}' is not a valid CIDR block`);
    }
    const size = 2 ** (32 - Number(bitsText));
    const first = Math.floor(base / size) * size;
    return [first, first + size - 1];
  }
  const dash = token.indexOf('-');
  if (dash >= 0) {
    const start = parseIpv4(token.slice(0, dash));
    const endText = token.slice(dash + 1);
    if (start === undefined) return undefined;
    let end: number | undefined;
    if (/^\d{1,3}$/.test(endText)) {
      // Short form `10.0.0.1-20`: the end replaces the last octet.
      end = Number(endText) <= 255 ? start - (start % 256) + Number(endText) : undefined;
    } else {
      end = parseIpv4(endText);
    }
    if (end === undefined) throw new TargetError(`targets: '${token}' is not a valid address range`);
    if (end < start) throw new TargetError(`targets: range '${token}' ends before it starts`);
    return [start, end];
  }
  const single = parseIpv4(token);
  return single === undefined ? undefined : [single, single];
}

/**
 * Expands Nessus `text_targets` (comma, space or newline separated: IPv4 addresses, CIDR blocks,
 * `a.b.c.d-e.f.g.h` and `a.b.c.d-N` ranges, IPv6 literals, host names) into one entry per address,
 * de-duplicated, in order, stopping at MAX_SCAN_HOSTS.
 */
export function expandTargets(text: string): ExpandedTargets {
  const tokens = text.split(/[\s,]+/).filter((token) => token.length > 0);
  if (tokens.length === 0) throw new TargetError('targets: no target given');
  const seen = new Set<string>();
  const hosts: ScanTarget[] = [];
  let capped = false;
  const add = (target: ScanTarget): boolean => {
    if (seen.has(target.name)) return true;
    if (hosts.length >= MAX_SCAN_HOSTS) {
      capped = true;
      return false;
    }
    seen.add(target.name);
    hosts.push(target);
    return true;
  };
  for (const token of tokens) {
    const span = ipv4Span(token);
    if (span) {
      for (let value = span[0]; value <= span[1]; value += 1) {
        const ip = formatIpv4(value);
        if (!add({ name: ip, ip })) break;
      }
    } else if (isIPv6(token)) {
      add({ name: token, ip: token });
    } else if (HOST_NAME.test(token) && /[A-Za-z_]/.test(token)) {
      const name = token.replace(/\.$/, '').toLowerCase();
      add({ name, ip: syntheticAddress(name), fqdn: name });
    } else {
      throw new TargetError(`targets: '${token}' is not an IPv4/IPv6 address, CIDR block, range or host name`);
    }
    if (capped) break;
  }
  return { hosts, tokens, capped };
}
