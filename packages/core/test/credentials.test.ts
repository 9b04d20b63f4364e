import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { decryptSecret, encryptSecret } from '../src/credentials.js';

describe('credential envelopes', () => {
  const key = randomBytes(32);
  const secret = { ssh_username: 'root', ssh_password: 'Tr0ub4dor&3-unique' };

  it('round-trips and never contains the clear text', () => {
    const envelope = encryptSecret(key, secret, 'ne_scan_20251201_143022_a1b2c3d4');
    expect(JSON.stringify(envelope)).not.toContain('Tr0ub4dor');
    expect(JSON.stringify(envelope)).not.toContain('root');
    expect(decryptSecret(key, envelope, 'ne_scan_20251201_143022_a1b2c3d4')).toEqual(secret);
  });

  it('refuses a blob moved to another task or read with another key', () => {
    const envelope = encryptSecret(key, secret, 'ne_scan_20251201_143022_a1b2c3d4');
    expect(() => decryptSecret(key, envelope, 'ne_scan_20251201_143022_ffffffff')).toThrow(/cannot be decrypted/);
    expect(() => decryptSecret(randomBytes(32), envelope, 'ne_scan_20251201_143022_a1b2c3d4')).toThrow(/CREDENTIALS_KEY/);
  });
});
