import { describe, expect, it } from '@jest/globals';
import { expandTargets, MAX_SCAN_HOSTS } from '../src/targets.js';

const names = (text: string): string[] => expandTargets(text).hosts.map((host) => host.name);

describe('expandTargets', () => {
  it('splits on commas, spaces and newlines and keeps order', () => {
    expect(names('10.0.0.2, 10.0.0.1\n10.0.0.3 10.0.0.4')).toEqual(['10.0.0.2', '10.0.0.1', '10.0.0.3', '10.0.0.4']);
  });

  it('expands a CIDR block to every address in it, network and broadcast included', () => {
    const hosts = names('192.168.1.0/30');
    expect(hosts).toEqual(['192.168.1.0', '192.168.1.1', '192.168.1.2', '192.168.1.3']);
    expect(names('10.1.2.3/24')).toHaveLength(256);
    expect(names('10.1.2.3/24')[0]).toBe('10.1.2.0');
  });

  it('expands full and last-octet ranges', () => {
    expect(names('10.0.0.1-10.0.0.20')).toHaveLength(20);
    expect(names('10.0.0.1-20')).toEqual(names('10.0.0.1-10.0.0.20'));
    expect(names('10.0.0.254-10.0.1.1')).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
  });

  it('counts an address once even when several targets cover it', () => {
    expect(names('10.0.0.1-3, 10.0.0.2, 10.0.0.0/30')).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.0']);
  });

  it('stops at 4096 hosts and says so', () => {
    const expanded = expandTargets('10.0.0.0/8');
    expect(expanded.hosts).toHaveLength(MAX_SCAN_HOSTS);
    expect(expanded.capped).toBe(true);
    expect(expanded.hosts.at(-1)?.name).toBe('10.0.15.255');
    expect(expandTargets('10.0.0.0/20').capped).toBe(false);
    expect(expandTargets('10.0.0.0/20, 10.9.9.9').capped).toBe(true);
  });

  it('keeps host names, with a stable benchmark-range address and the name as FQDN', () => {
    const [host] = expandTargets('Web-01.Example.com').hosts;
    expect(host?.name).toBe('web-01.example.com');
    expect(host?.fqdn).toBe('web-01.example.com');
    expect(host?.ip).toMatch(/^198\.(18|19)\.\d+\.\d+$/);
    expect(expandTargets('web-01.example.com').hosts[0]?.ip).toBe(host?.ip);
  });

  it('accepts IPv6 literals as single hosts', () => {
    expect(names('2001:db8::1')).toEqual(['2001:db8::1']);
  });

  it('rejects malformed targets with a message naming the token', () => {
    expect(() => expandTargets('10.0.0.300')).toThrow("'10.0.0.300'");
    expect(() => expandTargets('10.0.0.0/33')).toThrow('not a valid CIDR block');
    expect(() => expandTargets('10.0.0.9-3')).toThrow('ends before it starts');
    expect(() => expandTargets('bad_host!')).toThrow("'bad_host!'");
    expect(() => expandTargets(' , ')).toThrow('no target');
  });
});
