import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_API_CREDENTIALS, DEFAULT_FAULTS, DEFAULT_VALID_SSH, startSimulator, type RunningSimulator } from '@nessus-mcp/nessus-sim';
import { NessusScanner } from '../src/nessus-client.js';
import type { ScanCredentials } from '../src/scanner.js';
import { describeNessusContract, describeRealNessusModes, newTaskId, waitForTerminal } from './scanner-contract.js';

// Scans run half a (simulated) second; the clock offset lets a test age session tokens at once.
const FAST = { ...DEFAULT_FAULTS, scan_seconds: 0.5, drift: 0 };

describeNessusContract('the Nessus simulator (packages/nessus-sim)', async () => {
  let offset = 0;
  const sim = await startSimulator({ port: 0, faults: FAST, logLevel: 'error', clock: () => Date.now() + offset });
  return {
    url: sim.url,
    apiKeys: { access: DEFAULT_API_CREDENTIALS.accessKey, secret: DEFAULT_API_CREDENTIALS.secretKey },
    login: { username: DEFAULT_API_CREDENTIALS.username, password: DEFAULT_API_CREDENTIALS.password },
    setFaults: async (patch) => sim.setFaults(patch),
    resetFaults: async () => sim.setFaults(FAST),
    expireSessions: async () => {
      offset += (DEFAULT_FAULTS.session_ttl_s ?? 0) * 1000 + 1000;
    },
    close: () => sim.close(),
  };
});

describeRealNessusModes('the Nessus simulator', async () => {
  const sim = await startSimulator({ port: 0, faults: FAST, logLevel: 'error' });
  const keys = `accessKey=${DEFAULT_API_CREDENTIALS.accessKey}; secretKey=${DEFAULT_API_CREDENTIALS.secretKey}`;
  return {
    url: sim.url,
    apiKeys: { access: DEFAULT_API_CREDENTIALS.accessKey, secret: DEFAULT_API_CREDENTIALS.secretKey },
    login: { username: DEFAULT_API_CREDENTIALS.username, password: DEFAULT_API_CREDENTIALS.password },
    setFaults: async (patch) => sim.setFaults(patch),
    setRealFaults: async (patch) => sim.setFaults(patch),
    resetFaults: async () => sim.setFaults({ ...FAST }),
    expireSessions: async () => undefined,
    pauseScan: async (scanId) => {
      const response = await fetch(`${sim.url}/scans/${scanId}/pause`, { method: 'POST', headers: { 'X-ApiKeys': keys } });
      if (response.status !== 200) throw new Error(`pause answered ${response.status}`);
    },
    close: () => sim.close(),
  };
});

/** A client of the simulator with its default API keys, as a worker would configure it. */
function simScanner(sim: RunningSimulator, instanceId: string, extra: Partial<ConstructorParameters<typeof NessusScanner>[0]> = {}): NessusScanner {
  return new NessusScanner({
    poolName: 'sim',
    instance: {
      instance_id: instanceId,
      name: 'Simulator',
      url: sim.url,
      access_key: DEFAULT_API_CREDENTIALS.accessKey,
      secret_key: DEFAULT_API_CREDENTIALS.secretKey,
      max_concurrent_scans: 2,
      enabled: true,
      tls_verify: true,
      timeout_ms: 5_000,
    },
    ...extra,
  });
}

describe('credentialed scans against the simulator', () => {
  let sim: RunningSimulator;
  let scanner: NessusScanner;
  let dir: string;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, faults: FAST, logLevel: 'error' });
    scanner = simScanner(sim, 'sim-1', { exportPoll: { initialMs: 20, maxMs: 100 } });
    dir = await mkdtemp(join(tmpdir(), 'nmcp-sim-'));
  });
  afterAll(async () => {
    await scanner.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  const reportFor = async (scanType: 'trusted' | 'privileged', credentials: ScanCredentials): Promise<string> => {
    const taskId = newTaskId();
    const { scanId } = await scanner.createScan({ taskId, name: `creds ${scanType}`, targets: ['127.0.0.1'], scanType, credentials });
    await scanner.launchScan(scanId);
    expect((await waitForTerminal(scanner, scanId)).at(-1)?.state).toBe('completed');
    const dest = join(dir, `${taskId}.nessus`);
    await scanner.exportReport(scanId, dest);
    return readFile(dest, 'utf8');
  };

  it('gets credentialed results with the valid SSH password', async () => {
    expect(await reportFor('trusted', { ssh_username: DEFAULT_VALID_SSH.username, ssh_password: DEFAULT_VALID_SSH.password })).toMatch(
      /Credentialed checks : yes/,
    );
  });

  it('gets uncredentialed results with a wrong SSH password', async () => {
    expect(await reportFor('trusted', { ssh_username: DEFAULT_VALID_SSH.username, ssh_password: 'wrong-password' })).toMatch(/Credentialed checks : no/);
  });

  // Real Nessus takes `private_key` as the name of a file uploaded through multipart POST /file/upload.
  it('accepts an uploaded private key with escalation for a privileged scan', async () => {
    const report = await reportFor('privileged', {
      ssh_username: DEFAULT_VALID_SSH.username,
      ssh_private_key: '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n',
      ssh_private_key_passphrase: 'phrase',
      elevate_privileges_with: 'su+sudo',
      su_login: 'admin',
      escalation_account: 'root',
      escalation_password: 'root-pw',
    });
    expect(report).toMatch(/Credentialed checks : yes/);
  });

  it('is counted by the simulator under the scan name carrying the task id', async () => {
    const taskId = newTaskId();
    const { scanId } = await scanner.createScan({ taskId, name: 'counted', targets: ['127.0.0.1'], scanType: 'untrusted' });
    await scanner.launchScan(scanId);
    await scanner.stopScan(scanId);
    expect(sim.stats().by_name[`[nmcp:${taskId}] counted`]).toEqual({ created: 1, launched: 1, stopped: 1 });
  });
});

describe("two workers on a Nessus without this system's folder yet", () => {
  it('both create their scans in one shared folder, whichever creates the folder first', async () => {
    // Latency keeps both folder look-ups in flight together, so both decide to create it.
    const sim = await startSimulator({ port: 0, faults: { ...FAST, latency_ms: 50 }, logLevel: 'error' });
    const scanners = [simScanner(sim, 'sim-1'), simScanner(sim, 'sim-2')];
    try {
      const created = await Promise.all(
        scanners.map((scanner, i) => scanner.createScan({ taskId: newTaskId(), name: `race ${i}`, targets: ['10.0.0.1'], scanType: 'untrusted' })),
      );
      expect(created).toHaveLength(2);
      const response = await fetch(`${sim.url}/folders`, {
        headers: { 'X-ApiKeys': `accessKey=${DEFAULT_API_CREDENTIALS.accessKey}; secretKey=${DEFAULT_API_CREDENTIALS.secretKey}` },
      });
      const { folders } = (await response.json()) as { folders: { name: string }[] };
      expect(folders.filter((folder) => folder.name === 'nessus-mcp')).toHaveLength(1);
    } finally {
      await Promise.all(scanners.map((scanner) => scanner.close()));
      await sim.close();
    }
  });
});
