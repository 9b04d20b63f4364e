import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { createLogger } from '@nessus-mcp/core';
import type { ScannerPoolConfig } from '../src/config.js';
import { MockScanner } from '../src/mock-scanner.js';
import { NessusScanner } from '../src/nessus-client.js';
import { createScanner } from '../src/scanner-factory.js';
import { FAKE_PASSWORD, FAKE_USER, startFakeNessus, type FakeNessus } from './fake-nessus.js';
import { newTaskId, rejection } from './scanner-contract.js';

describe('createScanner', () => {
  let fake: FakeNessus;
  beforeEach(async () => {
    fake = await startFakeNessus();
  });
  afterEach(async () => {
    await fake.close();
  });

  const pool = (type: 'nessus' | 'mock'): ScannerPoolConfig => ({
    name: 'default',
    type,
    folder: 'nessus-mcp',
    instances: [
      {
        instance_id: 'n1',
        name: 'N1',
        url: fake.url,
        username: FAKE_USER,
        password: FAKE_PASSWORD,
        max_concurrent_scans: 1,
        enabled: true,
        tls_verify: true,
        timeout_ms: 5_000,
      },
    ],
  });

  it('builds the backend the pool type names', async () => {
    const nessus = createScanner(pool('nessus'), pool('nessus').instances[0]!);
    const mock = createScanner(pool('mock'), pool('mock').instances[0]!);
    expect(nessus).toBeInstanceOf(NessusScanner);
    expect(mock).toBeInstanceOf(MockScanner);
    expect([nessus.kind, nessus.poolName, nessus.instanceId]).toEqual(['nessus', 'default', 'n1']);
    await nessus.close();
  });

  it('logs through a pino child logger with the pool and instance, and never logs secrets', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(chunk.toString('utf8'));
        callback();
      },
    });
    const logger = createLogger({ name: 'test', level: 'debug', destination: sink });
    fake.override('GET', /^\/scans\/\d+$/, (req, res) => {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: `failed for ${String(req.headers['x-cookie'])}` }));
    });
    const scanner = createScanner(pool('nessus'), pool('nessus').instances[0]!, { logger });
    const { scanId } = await scanner.createScan({
      taskId: newTaskId(),
      name: 'logged',
      targets: ['10.0.0.1'],
      scanType: 'privileged',
      credentials: { ssh_username: 'scan', ssh_password: 'ssh-secret-pw', elevate_privileges_with: 'sudo', escalation_password: 'sudo-secret-pw' },
    });
    await rejection(scanner.getStatus(scanId));
    await scanner.close();
    const token = /token=([0-9a-f]+)/.exec(String(fake.requests.find((r) => r.headers['x-cookie'])?.headers['x-cookie']))?.[1];
    expect(token).toBeDefined();
    const text = lines.join('');
    expect(text).toContain('"scanner_pool":"default"');
    expect(text).toContain('"scanner_instance":"n1"');
    expect(text).toContain('nessus scan created');
    for (const secret of [FAKE_PASSWORD, 'ssh-secret-pw', 'sudo-secret-pw', token ?? 'missing-token']) expect(text).not.toContain(secret);
  });
});
