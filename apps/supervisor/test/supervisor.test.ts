import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScannersConfig } from '@nessus-mcp/core';
import { configUsesSimulator } from '../src/simulator-target.js';
import { startSystem } from '../src/supervisor.js';

const instance = (url: string, enabled = true) => ({ instance_id: 'scanner1', name: 'n', url, access_key: 'a', secret_key: 'b', enabled });

describe('configUsesSimulator', () => {
  it('starts the simulator only for an enabled loopback instance on NESSUS_SIM_PORT', () => {
    const config = (url: string, enabled = true) => parseScannersConfig({ pools: [{ name: 'nessus', instances: [instance(url, enabled)] }] }, 't', {});
    expect(configUsesSimulator(config('http://127.0.0.1:8834'), 8834)).toBe(true);
    expect(configUsesSimulator(config('http://localhost:8834'), 8834)).toBe(true);
    expect(configUsesSimulator(config('http://127.0.0.1:8834'), 9000)).toBe(false);
    expect(configUsesSimulator(config('https://nessus.corp:8834'), 8834)).toBe(false);
    expect(configUsesSimulator(config('http://127.0.0.1:8834', false), 8834)).toBe(false);
  });
});

describe('startSystem', () => {
  it('refuses to start on a broken scanners.yaml, naming the key path, before spawning anything', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nmcp-sup-'));
    const config = join(dir, 'scanners.yaml');
    writeFileSync(
      config,
      'pools:\n  - name: nessus\n    instances:\n      - instance_id: scanner1\n        name: x\n        url: http://127.0.0.1:8834\n        access_key: a\n        secret_key: b\n        max_concurrent_scans: -1\n',
    );
    await expect(startSystem({ root: dir, env: { SCANNERS_CONFIG: config, DATA_DIR: join(dir, 'data') } })).rejects.toThrow(
      /pools\[0\]\.instances\[0\]\.max_concurrent_scans/,
    );
  });
});

describe('port pre-flight', () => {
  it('refuses to start when a port is taken, naming the variable to change', async () => {
    const { createServer } = await import('node:net');
    const { assertPortsFree } = await import('../src/port-check.js');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      await expect(assertPortsFree([{ name: 'NESSUS_SIM_PORT', host: '127.0.0.1', port }])).rejects.toThrow(
        new RegExp(`NESSUS_SIM_PORT=${port} .*already in use`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    await expect(assertPortsFree([{ name: 'NESSUS_SIM_PORT', host: '127.0.0.1', port }])).resolves.toBeUndefined();
  });
});
