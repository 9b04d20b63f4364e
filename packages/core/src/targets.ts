import { AppError } from './errors.js';
import { ADDRESS_BITS, cidrBlock, intervalCovers, intervalSize, intervalsOverlap, mergeIntervals, parseIp } from './ip.js';
import type { IpAddress, IpInterval, IpVersion } from './ip.js';

/**
 * Scan targets as agents write them: IPv4/IPv6 addresses, CIDRs, ranges (`10.0.0.1-10`,
 * `10.0.0.1-10.0.0.20`) and host names, separated by commas, spaces or newlines.
 * Addresses are held as bigint intervals (./ip.ts) so that counting, scope checks and the
 * CIDR-aware `list_tasks(target)` filter are all interval arithmetic. Nothing here pulls Redis or
 * BullMQ, so the worker, the gateway and the CLI share this module.
 */

export type TargetKind = 'address' | 'cidr' | 'range' | 'hostname';

export interface AddressTarget extends IpInterval {
  kind: 'address' | 'cidr' | 'range';
  /** The token as the caller wrote it (trimmed). */
  text: string;
}

export interface HostnameTarget {
  kind: 'hostname';
  text: string;
  /** Lower-cased, without a trailing dot. */
  hostname: string;
}

export type Target = AddressTarget | HostnameTarget;

export interface TargetLimits {
  /** Largest number of addresses one scan may cover (scanners.yaml `limits.max_addresses_per_scan`). */
  maxAddresses: number;
  /** Longest accepted targets text, a guard against pathological input before any parsing. */
  maxTextLength?: number;
}

export interface ParsedTargets {
  targets: Target[];
  /** Addresses covered, a host name counting as one. */
  addressCount: number;
}

const HOSTNAME_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const DEFAULT_MAX_TEXT = 100_000;

function invalid(message: string, target?: string): AppError {
  return new AppError('invalid_argument', message, target === undefined ? {} : { details: { target } });
}

/** A single address, or null when `text` is not one. Leading zeros in IPv4 are refused: some tools read them as octal. */
function parseAddress(text: string): IpAddress | null {
  // Zone ids (`fe80::1%eth0`) name an interface of this host, meaningless to a remote scanner.
  if (text.includes('%') || text.trim() !== text) return null;
  return parseIp(text);
}

function looksNumeric(text: string): boolean {
  return /^[\d.]+$/.test(text);
}

function parseHostname(text: string): HostnameTarget | null {
  const hostname = text.toLowerCase().replace(/\.$/, '');
  if (hostname.length === 0 || hostname.length > 253) return null;
  const labels = hostname.split('.');
  if (!labels.every((label) => HOSTNAME_LABEL.test(label))) return null;
  // An all-digit top label means a mistyped address (10.0.0.256), not a host name.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return null;
  return { kind: 'hostname', text, hostname };
}

/** Parses one token; throws `invalid_argument` with a message naming it. */
export function parseTarget(token: string): Target {
  const text = token.trim();
  if (text === '') throw invalid('targets: empty target');

  const slash = text.indexOf('/');
  if (slash !== -1) {
    const address = parseAddress(text.slice(0, slash));
    const prefixText = text.slice(slash + 1);
    if (!address) throw invalid(`targets: '${text}' is not a valid CIDR (the part before '/' must be an IPv4 or IPv6 address)`, text);
    const bits = ADDRESS_BITS[address.version];
    if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) {
      throw invalid(`targets: '${text}' has an invalid prefix length (0-${bits} for IPv${address.version})`, text);
    }
    const { version, first, last } = cidrBlock(address, Number(prefixText));
    return { kind: 'cidr', text, version, first, last };
  }

  const dash = text.indexOf('-');
  if (dash !== -1 && (looksNumeric(text.slice(0, dash)) || text.slice(0, dash).includes(':'))) {
    const start = parseAddress(text.slice(0, dash));
    const endText = text.slice(dash + 1);
    if (!start) throw invalid(`targets: '${text}' is not a valid range (the start is not an address)`, text);
    let end: bigint;
    if (start.version === 4 && /^\d{1,3}$/.test(endText)) {
      // `10.0.0.1-10`: the end replaces the last octet.
      if (Number(endText) > 255) throw invalid(`targets: '${text}' is not a valid range (the last octet ends at 255)`, text);
      end = (start.value & ~0xffn) | BigInt(Number(endText));
    } else {
      const parsedEnd = parseAddress(endText);
      if (!parsedEnd || parsedEnd.version !== start.version) {
        throw invalid(`targets: '${text}' is not a valid range (write 10.0.0.1-10 or 10.0.0.1-10.0.0.20)`, text);
      }
      end = parsedEnd.value;
    }
    if (end < start.value) throw invalid(`targets: '${text}' is not a valid range (it ends before it starts)`, text);
    return { kind: 'range', text, version: start.version, first: start.value, last: end };
  }

  const address = parseAddress(text);
  if (address) return { kind: 'address', text, version: address.version, first: address.value, last: address.value };
  if (looksNumeric(text) || text.includes(':')) throw invalid(`targets: '${text}' is not a valid IP address`, text);
  const hostname = parseHostname(text);
  if (!hostname) throw invalid(`targets: '${text}' is neither an IP address, a CIDR, a range nor a valid host name`, text);
  return hostname;
}

export function addressCount(target: Target): bigint {
  return target.kind === 'hostname' ? 1n : intervalSize(target);
}

/** Splits on commas and any whitespace; accepts one string or a list of strings. */
export function splitTargets(input: string | readonly string[]): string[] {
  const parts = typeof input === 'string' ? [input] : input;
  return parts.flatMap((part) => part.split(/[\s,]+/)).filter((token) => token !== '');
}

const formatCount = (value: bigint | number): string => BigInt(value).toLocaleString('en-US');

/**
 * Parses, de-duplicates (same spelling, case-insensitive) and size-checks a targets argument.
 * Throws `invalid_argument` for an empty list, a malformed token or too many addresses.
 */
export function parseTargets(input: string | readonly string[], limits: TargetLimits): ParsedTargets {
  const maxText = limits.maxTextLength ?? DEFAULT_MAX_TEXT;
  const length = typeof input === 'string' ? input.length : input.reduce((sum, part) => sum + part.length + 1, 0);
  if (length > maxText) throw invalid(`targets: the text is ${formatCount(length)} characters long; at most ${formatCount(maxText)} are accepted`);
  const seen = new Set<string>();
  const targets: Target[] = [];
  let total = 0n;
  const max = BigInt(limits.maxAddresses);
  for (const token of splitTargets(input)) {
    const key = token.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const target = parseTarget(token);
    const count = addressCount(target);
    if (count > max) {
      throw invalid(`targets: '${target.text}' is larger than the allowed ${formatCount(max)} addresses (${formatCount(count)} addresses)`, target.text);
    }
    total += count;
    targets.push(target);
  }
  if (targets.length === 0) throw invalid('targets: no target given (example: "192.168.1.10, 192.168.1.0/28, host.example.com")');
  if (total > max) throw invalid(`targets: ${formatCount(total)} addresses in total exceed the allowed ${formatCount(max)} per scan; split the scan`);
  return { targets, addressCount: Number(total) };
}

/** The compiled `allowed_targets` list: merged address intervals per IP version plus host name rules. */
export interface AllowList {
  readonly entries: readonly string[];
  readonly intervals: Readonly<Record<IpVersion, readonly IpInterval[]>>;
  readonly hostnames: ReadonlySet<string>;
  /** `*.example.com` stored as `.example.com`. */
  readonly suffixes: readonly string[];
}

/** Throws `config_invalid` naming a malformed entry, so a typo in scanners.yaml fails at start. */
export function compileAllowList(entries: readonly string[]): AllowList {
  const intervals: Record<IpVersion, IpInterval[]> = { 4: [], 6: [] };
  const hostnames = new Set<string>();
  const suffixes: string[] = [];
  for (const entry of entries) {
    const text = entry.trim();
    if (text.startsWith('*.')) {
      const suffix = parseHostname(text.slice(2));
      if (!suffix) throw new AppError('config_invalid', `allowed_targets: '${entry}' is not a valid *.domain pattern`);
      suffixes.push(`.${suffix.hostname}`);
      continue;
    }
    let target: Target;
    try {
      target = parseTarget(text);
    } catch (error) {
      throw new AppError('config_invalid', `allowed_targets: ${(error as Error).message.replace(/^targets: /, '')}`);
    }
    if (target.kind === 'hostname') hostnames.add(target.hostname);
    else intervals[target.version].push(target);
  }
  return { entries: [...entries], intervals: { 4: mergeIntervals(intervals[4]), 6: mergeIntervals(intervals[6]) }, hostnames, suffixes };
}

/**
 * Whether the allow-list covers the whole target. Host names are matched by name only: resolving
 * them here would let DNS decide scope, and the answer could change between check and scan.
 */
export function isAllowed(target: Target, allow: AllowList): boolean {
  if (target.kind === 'hostname') {
    return allow.hostnames.has(target.hostname) || allow.suffixes.some((suffix) => target.hostname.endsWith(suffix));
  }
  return allow.intervals[target.version].some((interval) => intervalCovers(interval, target));
}

/** Throws `out_of_scope` naming the first target outside the allow-list. */
export function assertInScope(targets: readonly Target[], allow: AllowList): void {
  for (const target of targets) {
    if (!isAllowed(target, allow)) {
      throw new AppError(
        'out_of_scope',
        `targets: '${target.text}' is outside the targets this server may scan (allowed_targets: ${allow.entries.join(', ')})`,
        {
          details: { target: target.text, allowed_targets: [...allow.entries] },
        },
      );
    }
  }
}

/** CIDR-aware: an address matches a CIDR or range containing it, two blocks match when they overlap. */
export function targetsOverlap(a: Target, b: Target): boolean {
  if (a.kind === 'hostname' || b.kind === 'hostname') {
    return a.kind === 'hostname' && b.kind === 'hostname' && a.hostname === b.hostname;
  }
  return intervalsOverlap(a, b);
}

/**
 * Whether any of a task's stored target tokens overlaps `query`. Tokens that no longer parse
 * (written by an older version) are compared by spelling rather than failing the listing.
 */
export function anyTargetOverlaps(taskTargets: readonly string[], query: Target): boolean {
  return taskTargets.some((token) => {
    try {
      return targetsOverlap(parseTarget(token), query);
    } catch {
      return token.toLowerCase() === query.text.toLowerCase();
    }
  });
}
