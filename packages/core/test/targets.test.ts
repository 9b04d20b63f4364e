import { describe, expect, it } from '@jest/globals';
import { AppError } from '../src/errors.js';
import { anyTargetOverlaps, assertInScope, compileAllowList, parseTarget, parseTargets, targetsOverlap } from '../src/targets.js';

const LIMITS = { maxAddresses: 65536 };

function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected an AppError');
}

describe('parseTarget', () => {
  it.each([
    ['192.168.1.10', 'address', 1n],
    ['192.168.1.0/24', 'cidr', 256n],
    ['192.168.1.77/24', 'cidr', 256n],
    ['10.0.0.1-10', 'range', 10n],
    ['10.0.0.1-10.0.0.20', 'range', 20n],
    ['10.0.0.250-10.0.1.5', 'range', 12n],
    ['::1', 'address', 1n],
    ['2001:db8::/120', 'cidr', 256n],
    ['::ffff:10.0.0.1', 'address', 1n],
    ['fe80::1-fe80::10', 'range', 16n],
    ['host.example.com', 'hostname', 1n],
    ['my-host', 'hostname', 1n],
    ['WEB01.Corp.Example.', 'hostname', 1n],
  ])('reads %s as a %s of %s addresses', (text, kind, count) => {
    const target = parseTarget(text);
    expect(target.kind).toBe(kind);
    const size = target.kind === 'hostname' ? 1n : target.last - target.first + 1n;
    expect(size).toBe(count);
  });

  it('normalises a CIDR with host bits set to its network', () => {
    expect(parseTarget('192.168.1.77/24')).toMatchObject({ first: 0xc0a80100n, last: 0xc0a801ffn });
  });

  it.each([
    ['10.0.0.256', 'is not a valid IP address'],
    ['010.0.0.1', 'is not a valid IP address'],
    ['10.0.0', 'is not a valid IP address'],
    ['10.0.0.0/33', 'invalid prefix length (0-32 for IPv4)'],
    ['2001:db8::/129', 'invalid prefix length (0-128 for IPv6)'],
    ['bad/24', 'is not a valid CIDR'],
    ['10.0.0.10-5', 'ends before it starts'],
    ['10.0.0.1-300', 'the last octet ends at 255'],
    ['10.0.0.1-::5', 'is not a valid range'],
    ['fe80::1%eth0', 'is not a valid IP address'],
    ['-bad-.example.com', 'neither an IP address'],
    ['under_score.example.com', 'neither an IP address'],
    ['a;rm -rf /', 'is not a valid CIDR'],
  ])('refuses %s: %s', (text, message) => {
    const error = errorOf(() => parseTarget(text));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain(message);
    expect(error.message).toContain(`'${text}'`);
  });
});

describe('parseTargets', () => {
  it('splits on commas, spaces and newlines and drops duplicates', () => {
    const parsed = parseTargets('10.0.0.1, 10.0.0.2\n10.0.0.0/30  host.example.com,10.0.0.1', LIMITS);
    expect(parsed.targets.map((t) => t.text)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.0/30', 'host.example.com']);
    expect(parsed.addressCount).toBe(1 + 1 + 4 + 1);
  });

  it('accepts a list of strings', () => {
    expect(parseTargets(['10.0.0.1', '10.0.0.2 10.0.0.3'], LIMITS).targets).toHaveLength(3);
  });

  it('refuses an empty list with an example of what is expected', () => {
    const error = errorOf(() => parseTargets(' ,\n ', LIMITS));
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toContain('no target given');
  });

  it('names a single target larger than the limit', () => {
    const error = errorOf(() => parseTargets('10.0.0.1, 10.0.0.0/8', LIMITS));
    expect(error.message).toBe("targets: '10.0.0.0/8' is larger than the allowed 65,536 addresses (16,777,216 addresses)");
    expect(error.details).toEqual({ target: '10.0.0.0/8' });
  });

  it('refuses targets whose sum exceeds the limit', () => {
    const error = errorOf(() => parseTargets('10.0.0.0/16 10.1.0.0/24', LIMITS));
    expect(error.message).toContain('65,792 addresses in total exceed the allowed 65,536');
  });

  it('accepts exactly the limit', () => {
    expect(parseTargets('10.0.0.0/16', LIMITS).addressCount).toBe(65536);
  });

  it('refuses oversized text before parsing it', () => {
    const error = errorOf(() => parseTargets('1'.repeat(20), { maxAddresses: 10, maxTextLength: 10 }));
    expect(error.message).toContain('at most 10 are accepted');
  });
});

describe('allowed_targets', () => {
  const allow = compileAllowList(['10.0.0.0/25', '10.0.0.128/25', '192.168.1.5', 'fc00::/7', 'scanme.example.org', '*.lab.example.com']);

  it.each([['10.0.0.0/24'], ['10.0.0.1-10.0.0.200'], ['192.168.1.5'], ['fd00::1'], ['SCANME.example.org'], ['web.lab.example.com'], ['a.b.lab.example.com']])(
    'lets %s through',
    (text) => {
      expect(() => assertInScope([parseTarget(text)], allow)).not.toThrow();
    },
  );

  it.each([['8.8.8.8'], ['10.0.0.0/23'], ['192.168.1.4-5'], ['2001:db8::1'], ['lab.example.com'], ['evil-lab.example.com'], ['example.org']])(
    'refuses %s as out_of_scope naming it',
    (text) => {
      const error = errorOf(() => assertInScope([parseTarget('10.0.0.1'), parseTarget(text)], allow));
      expect(error.code).toBe('out_of_scope');
      expect(error.httpStatus).toBe(422);
      expect(error.message).toContain(`'${text}' is outside`);
      expect(error.details).toMatchObject({ target: text });
    },
  );

  it('fails configuration loading on a malformed entry', () => {
    const error = errorOf(() => compileAllowList(['10.0.0.0/40']));
    expect(error.code).toBe('config_invalid');
    expect(error.message).toContain('10.0.0.0/40');
  });
});

describe('CIDR-aware target matching', () => {
  it.each([
    ['192.168.1.5', ['192.168.1.0/24'], true],
    ['192.168.1.0/24', ['192.168.1.5'], true],
    ['192.168.1.0/24', ['192.168.1.128/25'], true],
    ['192.168.0.0/16', ['10.0.0.1', '192.168.200.0/24'], true],
    ['192.168.1.5', ['192.168.1.1-10'], true],
    ['192.168.2.5', ['192.168.1.0/24'], false],
    ['192.168.1.0/25', ['192.168.1.128/25'], false],
    ['::1', ['127.0.0.1'], false],
    ['host.example.com', ['HOST.example.com'], true],
    ['host.example.com', ['10.0.0.1'], false],
  ])('query %s against task targets %j → %s', (query, taskTargets, expected) => {
    expect(anyTargetOverlaps(taskTargets, parseTarget(query))).toBe(expected);
  });

  it('is symmetric', () => {
    const a = parseTarget('10.0.0.0/30');
    const b = parseTarget('10.0.0.3-10.0.0.9');
    expect(targetsOverlap(a, b)).toBe(true);
    expect(targetsOverlap(b, a)).toBe(true);
  });
});
