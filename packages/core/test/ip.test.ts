import { describe, expect, it } from '@jest/globals';
import { cidrBlock, formatCidr, formatIp, intervalContains, mergeIntervals, parseCidr, parseIp } from '../src/ip.js';

describe('parseIp', () => {
  it('reads IPv6 spellings of one address as the same number', () => {
    expect(parseIp('::1')).toEqual(parseIp('0:0::1'));
    expect(parseIp('2001:DB8::1')).toEqual({ version: 6, value: 0x20010db8000000000000000000000001n });
  });

  it('reads an embedded dotted quad as the last two groups', () => {
    expect(parseIp('::ffff:10.0.0.1')).toEqual({ version: 6, value: 0xffff0a000001n });
  });

  it.each(['010.0.0.1', '0xa.0.0.1', '10.1', '::ffff:010.0.0.1', '1::2::3', '12345::', 'host.example'])('refuses %s', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  it('ignores surrounding spaces and an IPv6 zone index', () => {
    expect(parseIp(' fe80::1%eth0 ')).toEqual(parseIp('fe80::1'));
  });
});

describe('CIDR blocks', () => {
  it('clears host bits and spans the whole block', () => {
    expect(parseCidr('10.0.0.77/24')).toEqual({ version: 4, first: 0x0a000000n, last: 0x0a0000ffn, prefix: 24 });
    expect(parseCidr('2001:db8::/127')).toMatchObject({ first: 0x20010db8000000000000000000000000n, last: 0x20010db8000000000000000000000001n });
    expect(parseCidr('0.0.0.0/0')).toMatchObject({ first: 0n, last: 0xffffffffn });
  });

  it.each(['10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/x', 'bad/8', '10.0.0.0'])('refuses %s', (text) => {
    expect(parseCidr(text)).toBeNull();
  });

  it('throws for a prefix the version does not have', () => {
    expect(() => cidrBlock({ version: 4, value: 0n }, 33)).toThrow(RangeError);
  });

  it('contains only addresses of its own version', () => {
    const block = parseCidr('10.0.0.0/8');
    expect(block && intervalContains(block, { version: 4, value: 0x0affffffn })).toBe(true);
    expect(block && intervalContains(block, { version: 6, value: 0x0a000001n })).toBe(false);
  });
});

describe('formatting', () => {
  it('prints the RFC 5952 form of IPv6 and the dotted quad of IPv4', () => {
    expect(formatIp({ version: 6, value: 0x20010db8000000000000000000000001n })).toBe('2001:db8::1');
    expect(formatIp({ version: 6, value: 0x20010db8000000010000000000000001n })).toBe('2001:db8:0:1::1');
    expect(formatIp({ version: 4, value: 0xc0a8010an })).toBe('192.168.1.10');
    const block = parseCidr('2001:DB8:0::/32');
    expect(block && formatCidr(block)).toBe('2001:db8::/32');
  });
});

describe('mergeIntervals', () => {
  it('joins overlapping and adjacent blocks of one version, never across versions', () => {
    const blocks = ['10.0.0.128/25', '10.0.0.0/25', '10.0.2.0/24', '::a00:0/120'].map((text) => {
      const block = parseCidr(text);
      if (!block) throw new Error(text);
      return block;
    });
    expect(mergeIntervals(blocks)).toEqual([
      { version: 4, first: 0x0a000000n, last: 0x0a0000ffn },
      { version: 4, first: 0x0a000200n, last: 0x0a0002ffn },
      { version: 6, first: 0x0a000000n, last: 0x0a0000ffn },
    ]);
  });
});
