import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScannersConfig, parseScannersConfig } from '../src/config/scanners-config.js';
import { AppError } from '../src/errors.js';

const shipped = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../config/scanners.yaml');

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'nmcp-config-'));
  const path = join(dir, 'scanners.yaml');
  writeFileSync(path, text);
  return path;
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('config_invalid');
    return (error as AppError).message;
  }
  throw new Error('expected the config to be rejected');
}

const base = (instance: string): string => `pools:\n  - name: nessus\n    instances:\n      - instance_id: scanner1\n        name: one\n${instance}`;
const goodInstance = '        url: https://nessus.local:8834\n        access_key: a\n        secret_key: b\n';

describe('scanners.yaml', () => {
  it('loads the shipped default: one pool `nessus` pointing at the simulator port', () => {
    const config = loadScannersConfig(shipped, { NESSUS_SIM_PORT: '9999' });
    expect(config.default_pool).toBe('nessus');
    expect(config.pools[0]!.instances[0]!.url).toBe('http://127.0.0.1:9999');
    expect(config.pools[0]!.instances[0]!.max_concurrent_scans).toBe(4);
    expect(config.limits.max_addresses_per_scan).toBe(65536);
    expect(config.allowed_targets).toContain('192.168.0.0/16');
  });

  it('expands ${VAR} and ${VAR:-default} anywhere in a string', () => {
    const config = parseScannersConfig(
      {
        pools: [
          {
            name: 'p',
            instances: [
              {
                instance_id: 'i1',
                name: 'x-${SITE:-lab}',
                url: 'https://${HOST}:8834',
                access_key: '${AK}',
                secret_key: 's',
                max_concurrent_scans: '${MAX:-3}',
              },
            ],
          },
        ],
      },
      'test.yaml',
      { HOST: 'nessus.corp', AK: 'key' },
    );
    const instance = config.pools[0]!.instances[0]!;
    expect(instance.name).toBe('x-lab');
    expect(instance.url).toBe('https://nessus.corp:8834');
    expect(instance.access_key).toBe('key');
    expect(instance.max_concurrent_scans).toBe(3);
    expect(instance.tls_verify).toBe(true);
  });

  it('names the key path of an unknown key', () => {
    const path = writeConfig(base(goodInstance + '        max_scans: 3\n'));
    expect(messageOf(() => loadScannersConfig(path, {}))).toMatch(/pools\[0\]\.instances\[0\]: unknown key\(s\) 'max_scans'/);
  });

  it('names the key path of a bad URL', () => {
    const path = writeConfig(base('        url: nessus.local:8834\n        access_key: a\n        secret_key: b\n'));
    expect(messageOf(() => loadScannersConfig(path, {}))).toMatch(/pools\[0\]\.instances\[0\]\.url: must be an http:\/\/ or https:\/\/ URL/);
  });

  it('names the key path of a negative concurrency', () => {
    const path = writeConfig(base(goodInstance + '        max_concurrent_scans: -2\n'));
    expect(messageOf(() => loadScannersConfig(path, {}))).toMatch(/pools\[0\]\.instances\[0\]\.max_concurrent_scans: .*>=\s*1/);
  });

  it('names the key path and variable of a missing env var without default', () => {
    const path = writeConfig(base('        url: https://nessus.local:8834\n        access_key: ${NESSUS_AK}\n        secret_key: b\n'));
    expect(messageOf(() => loadScannersConfig(path, {}))).toMatch(/pools\[0\]\.instances\[0\]\.access_key: environment variable NESSUS_AK is not set/);
  });

  it('requires credentials for every instance', () => {
    const path = writeConfig(base('        url: https://nessus.local:8834\n'));
    expect(messageOf(() => loadScannersConfig(path, {}))).toMatch(/needs access_key\/secret_key or username\/password/);
  });

  it('treats a missing file as an error instead of writing an example', () => {
    expect(messageOf(() => loadScannersConfig('/nonexistent/scanners.yaml', {}))).toMatch(/file not found/);
  });

  it('reports YAML syntax errors with the position', () => {
    const path = writeConfig('pools: [\n');
    expect(messageOf(() => loadScannersConfig(path, {}))).toMatch(/not valid YAML/);
  });

  it('rejects duplicate instance ids and a default_pool naming no pool', () => {
    const path = writeConfig(`default_pool: other\n${base(goodInstance)}      - instance_id: scanner1\n        name: two\n${goodInstance}`);
    const message = messageOf(() => loadScannersConfig(path, {}));
    expect(message).toMatch(/pools\[0\]\.instances\[1\]\.instance_id: duplicate instance_id 'scanner1'/);
    expect(message).toMatch(/default_pool: names no pool/);
  });
});
