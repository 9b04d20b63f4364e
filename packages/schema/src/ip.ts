import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as a number, so that IPv6 spellings (`::1`, `0:0::1`) compare equal and CIDRs contain by arithmetic. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

export interface CidrBlock {
  version: 4 | 6;
  /** Network address (host bits cleared). */
  network: bigint;
  prefix: number;
}

function ipv4ToBigInt(text: string): bigint {
  let value = 0n;
  for (const part of text.split('.')) value = (value << 8n) | BigInt(Number(part));
  return value;
}

function ipv6ToBigInt(text: string): bigint {
  let address = text;
  // An embedded dotted quad (::ffff:10.0.0.1) stands for the last two groups.
  const lastColon = address.lastIndexOf(':');
  const tail = address.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigInt(tail);
    address = `${address.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', rest] = address.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  let value = 0n;
  for (const group of groups) value = (value << 16n) | BigInt(parseInt(group, 16));
  return value;
}

/** Parses an IPv4 or IPv6 address (zone index ignored); null when the text is not an address. */
export function parseIp(text: string): IpAddress | null {
  const trimmed = text.trim();
  if (isIPv4(trimmed)) return { version: 4, value: ipv4ToBigInt(trimmed) };
  const withoutZone = trimmed.split('%')[0] ?? '';
  if (isIPv6(withoutZone)) return { version: 6, value: ipv6ToBigInt(withoutZone) };
  return null;
}

/** Parses `address/prefix`; null when the text is not CIDR notation or the prefix is out of range. */
export function parseCidr(text: string): CidrBlock | null {
  const slash = text.indexOf('/');
  if (slash < 0) return null;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1).trim();
  if (!address || !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = Number(prefixText);
  const bits = address.version === 4 ? 32 : 128;
  if (prefix > bits) return null;
  const hostBits = BigInt(bits - prefix);
  return { version: address.version, network: (address.value >> hostBits) << hostBits, prefix };
}

export function cidrContains(block: CidrBlock, address: IpAddress): boolean {
  if (block.version !== address.version) return false;
  const hostBits = BigInt((block.version === 4 ? 32 : 128) - block.prefix);
  return address.value >> hostBits === block.network >> hostBits;
}

export function formatIp(address: IpAddress): string {
  if (address.version === 4) {
    const v = address.value;
    return [24n, 16n, 8n, 0n].map((shift) => ((v >> shift) & 0xffn).toString()).join('.');
  }
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((address.value >> shift) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952), so canonical forms read naturally.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') { i += 1; continue; }
    let j = i;
    while (j < groups.length && groups[j] === '0') j += 1;
    if (j - i > bestLength && j - i > 1) { bestStart = i; bestLength = j - i; }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

export function formatCidr(block: CidrBlock): string {
  return `${formatIp({ version: block.version, value: block.network })}/${block.prefix}`;
}
