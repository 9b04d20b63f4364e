import ipaddr from 'ipaddr.js';

/**
 * IP addresses as numbers and blocks as inclusive intervals: the one place where the project
 * reads, compares and prints addresses. ipaddr.js does the parsing, the prefix masks and the
 * RFC 5952 spelling; what is kept here is the interval arithmetic that scan targets, the
 * allow-list, `list_tasks(target)` and the result filters all rely on (IPv6 spellings such as
 * `::1` and `0:0::1` compare equal, CIDRs contain and overlap by arithmetic). It depends on
 * nothing else in core, so the schema package can use it without reaching the queue side.
 */

export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

/** A block of addresses, first and last inclusive. */
export interface IpInterval {
  version: IpVersion;
  first: bigint;
  last: bigint;
}

export interface CidrBlock extends IpInterval {
  /** `first` is the network address (host bits cleared). */
  prefix: number;
}

export const ADDRESS_BITS: Readonly<Record<IpVersion, number>> = { 4: 32, 6: 128 };

function toBigInt(bytes: readonly number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function toBytes(value: bigint, count: number): number[] {
  const bytes = new Array<number>(count);
  for (let i = count - 1, rest = value; i >= 0; i -= 1, rest >>= 8n) bytes[i] = Number(rest & 0xffn);
  return bytes;
}

/**
 * ipaddr.js also reads the legacy IPv4 forms (`010.0.0.1` as octal, `0xa.0.0.1`, `10.1`); only
 * the four-part decimal form is taken, since other tools read a leading zero differently and
 * the same text would then name two different hosts.
 */
function isStrictDottedQuad(text: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(text);
}

/**
 * Parses an IPv4 or IPv6 address; null when the text is not one. Surrounding spaces and an IPv6
 * zone index (`fe80::1%eth0`) are ignored: callers that must refuse zones check for `%` first.
 */
export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim();
  if (isStrictDottedQuad(trimmed)) return { version: 4, value: toBigInt(ipaddr.IPv4.parse(trimmed).toByteArray()) };
  const address = trimmed.split('%')[0] ?? '';
  if (!ipaddr.IPv6.isValid(address)) return null;
  // An embedded dotted quad (::ffff:10.0.0.1) follows the same strict IPv4 rule.
  const tail = address.slice(address.lastIndexOf(':') + 1);
  if (tail.includes('.') && !isStrictDottedQuad(tail)) return null;
  return { version: 6, value: toBigInt(ipaddr.IPv6.parse(address).toByteArray()) };
}

/** The block of `prefix` bits around `address`; throws RangeError for a prefix the version does not have. */
export function cidrBlock(address: IpAddress, prefix: number): CidrBlock {
  const bits = ADDRESS_BITS[address.version];
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) throw new RangeError(`prefix length ${prefix} is outside 0-${bits} for IPv${address.version}`);
  const kind = address.version === 4 ? ipaddr.IPv4 : ipaddr.IPv6;
  const mask = toBigInt(kind.subnetMaskFromPrefixLength(prefix).toByteArray());
  const hostMask = (1n << BigInt(bits)) - 1n - mask;
  const first = address.value & mask;
  return { version: address.version, first, last: first | hostMask, prefix };
}

/** Parses `address/prefix`; null when the text is not CIDR notation or the prefix is out of range. */
export function parseCidr(text: string): CidrBlock | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1).trim();
  if (!address || !/^\d{1,3}$/.test(prefixText) || Number(prefixText) > ADDRESS_BITS[address.version]) return null;
  return cidrBlock(address, Number(prefixText));
}

export function intervalContains(interval: IpInterval, address: IpAddress): boolean {
  return interval.version === address.version && interval.first <= address.value && address.value <= interval.last;
}

/** Whether `outer` holds every address of `inner`. */
export function intervalCovers(outer: IpInterval, inner: IpInterval): boolean {
  return outer.version === inner.version && outer.first <= inner.first && inner.last <= outer.last;
}

export function intervalsOverlap(a: IpInterval, b: IpInterval): boolean {
  return a.version === b.version && a.first <= b.last && b.first <= a.last;
}

export function intervalSize(interval: IpInterval): bigint {
  return interval.last - interval.first + 1n;
}

/** Sorted, with overlapping and adjacent intervals of one version joined. */
export function mergeIntervals<T extends IpInterval>(intervals: readonly T[]): IpInterval[] {
  const sorted = [...intervals].sort((a, b) => a.version - b.version || (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  const merged: IpInterval[] = [];
  for (const interval of sorted) {
    const previous = merged[merged.length - 1];
    // Adjacent blocks (10.0.0.0/25 + 10.0.0.128/25) merge too, so a /24 spanning both is covered.
    if (previous && previous.version === interval.version && interval.first <= previous.last + 1n) {
      if (interval.last > previous.last) previous.last = interval.last;
    } else merged.push({ version: interval.version, first: interval.first, last: interval.last });
  }
  return merged;
}

/** Dotted quad for IPv4, the RFC 5952 form (lower case, longest zero run compressed) for IPv6. */
export function formatIp(address: IpAddress): string {
  return ipaddr.fromByteArray(toBytes(address.value, ADDRESS_BITS[address.version] / 8)).toString();
}

export function formatCidr(block: CidrBlock): string {
  return `${formatIp({ version: block.version, value: block.first })}/${block.prefix}`;
}
