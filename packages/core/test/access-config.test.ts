import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { isAllowed, loadAccessConfig, parseAccessConfig, parseTarget } from '../src/index.js';

const HEX = 'a'.repeat(64);

describe('access file', () => {
  it('reads clients with their scopes and compiles their allowed_targets', () => {
    const config = parseAccessConfig(
      { tokens: [{ name: 'soc-agent', sha256: HEX.toUpperCase(), scopes: ['nessus:read', 'nessus:scan', 'nessus:read'], allowed_targets: ['10.20.0.0/16'] }] },
      'access.yaml',
    );
    const [token] = config.tokens;
    expect(token).toMatchObject({ name: 'soc-agent', sha256: HEX, scopes: ['nessus:read', 'nessus:scan'] });
    expect(isAllowed(parseTarget('10.20.3.4'), token!.allowList!)).toBe(true);
    expect(isAllowed(parseTarget('10.21.0.1'), token!.allowList!)).toBe(false);
    expect(config.oauth).toBeNull();
  });

  it.each([
    [{ tokens: [{ name: 'a', sha256: 'abc', scopes: ['nessus:read'] }] }, /tokens\[0\]\.sha256: must be the 64 hex digits/],
    [{ tokens: [{ name: 'a', sha256: HEX, scopes: ['nessus:root'] }] }, /tokens\[0\]\.scopes\[0\]/],
    [{ tokens: [{ name: 'operator', sha256: HEX, scopes: ['nessus:read'] }] }, /reserved/],
    [{ tokens: [{ name: 'a', sha256: HEX, scopes: ['nessus:read'], password: 'x' }] }, /unknown key\(s\) 'password'/],
    [
      {
        tokens: [
          { name: 'a', sha256: HEX, scopes: ['nessus:read'] },
          { name: 'a', sha256: 'b'.repeat(64), scopes: ['nessus:read'] },
        ],
      },
      /duplicate name 'a'/,
    ],
    [{ tokens: [{ name: 'a', sha256: HEX, scopes: ['nessus:read'], allowed_targets: ['10.0.0.0/33'] }] }, /tokens\[0\]\.allowed_targets/],
    [{ oauth: { issuer: 'https://idp.example.com', audience: 'x', jwks_url: 'http://idp.example.com/jwks' } }, /oauth\.jwks_url: must be an https:\/\/ URL/],
  ])('refuses %j with a message naming the field', (document, message) => {
    expect(() => parseAccessConfig(document, 'access.yaml')).toThrow(message);
  });

  it('is optional at the default path but required when ACCESS_CONFIG names it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'access-'));
    try {
      expect(loadAccessConfig(join(dir, 'access.yaml'), false).tokens).toEqual([]);
      expect(() => loadAccessConfig(join(dir, 'access.yaml'), true)).toThrow(/file not found/);
      writeFileSync(
        join(dir, 'access.yaml'),
        'oauth:\n  issuer: https://idp.example.com\n  audience: https://mcp.example.com/mcp\n  jwks_url: https://idp.example.com/jwks.json\n',
      );
      expect(loadAccessConfig(join(dir, 'access.yaml'), true).oauth).toMatchObject({ clock_skew_seconds: 60, algorithms: ['RS256', 'ES256', 'EdDSA'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
