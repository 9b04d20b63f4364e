import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DEFAULT_API_CREDENTIALS, DEFAULT_FAULTS, DEFAULT_VALID_SSH, startSimulator, type RunningSimulator } from '@nessus-mcp/nessus-sim';
import { NessusScanner } from '../src/nessus-client.js';
import type { ScanCredentials, ScanType } from '../src/scanner.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { newTaskId, waitForTerminal } from './scanner-contract.js';

// The simulated targets' SSH listens on 2222, so only a scan that sends that port logs in.
const TARGET_SSH_PORT = 2222;

interface CreateBody {
  settings: Record<string, unknown>;
  credentials?: { add: { Host: { SSH: Array<Record<string, unknown>> } } };
}

describe('credential fields on the wire, recorded between the client and the simulator', () => {
  let sim: RunningSimulator;
  let proxy: RecordingProxy;
  let scanner: NessusScanner;
  let dir: string;

  beforeAll(async () => {
    sim = await startSimulator({ port: 0, faults: { ...DEFAULT_FAULTS, scan_seconds: 0.5 }, logLevel: 'error', validSsh: { port: TARGET_SSH_PORT } });
    proxy = await startRecordingProxy(sim.url);
    scanner = new NessusScanner({
      poolName: 'sim',
      instance: {
        instance_id: 'sim-1',
        name: 'Simulator behind a recording proxy',
        url: proxy.url,
        access_key: DEFAULT_API_CREDENTIALS.accessKey,
        secret_key: DEFAULT_API_CREDENTIALS.secretKey,
        max_concurrent_scans: 2,
        enabled: true,
        tls_verify: true,
        timeout_ms: 5_000,
      },
      exportPoll: { initialMs: 20, maxMs: 100 },
    });
    dir = await mkdtemp(join(tmpdir(), 'nmcp-wire-'));
  });
  afterAll(async () => {
    await scanner.close();
    await proxy.close();
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs a scan to its export; returns the create body as recorded and the report text. */
  const scan = async (scanType: Exclude<ScanType, 'untrusted'>, credentials: ScanCredentials): Promise<{ body: CreateBody; report: string }> => {
    const taskId = newTaskId();
    const { scanId } = await scanner.createScan({ taskId, name: `wire ${scanType}`, targets: ['127.0.0.1'], scanType, credentials });
    const create = proxy.requests.filter((r) => r.method === 'POST' && r.path === '/scans').at(-1);
    await scanner.launchScan(scanId);
    expect((await waitForTerminal(scanner, scanId)).at(-1)?.state).toBe('completed');
    const dest = join(dir, `${taskId}.nessus`);
    await scanner.exportReport(scanId, dest);
    return { body: JSON.parse(create?.body ?? '{}') as CreateBody, report: await readFile(dest, 'utf8') };
  };
  const login = { ssh_username: DEFAULT_VALID_SSH.username, ssh_password: DEFAULT_VALID_SSH.password };

  it('sends ssh_port 2222 as the scan-wide settings.ssh_port string and no per-credential port, and logs in', async () => {
    const { body, report } = await scan('trusted', { ...login, ssh_port: TARGET_SSH_PORT });
    expect(body.settings.ssh_port).toBe('2222');
    const entries = body.credentials?.add.Host.SSH ?? [];
    expect(entries).toHaveLength(1);
    expect(entries.every((entry) => !('port' in entry))).toBe(true);
    expect(report).toMatch(/Credentialed checks : yes/);
  });

  it('runs uncredentialed when the scan does not name the port the targets listen on', async () => {
    const { body, report } = await scan('trusted', login);
    expect(body.settings).not.toHaveProperty('ssh_port');
    expect(report).toMatch(/Credentialed checks : no/);
  });

  it('sends the su login of a su+sudo scan as su_user, and logs in', async () => {
    const { body, report } = await scan('privileged', {
      ...login,
      ssh_port: TARGET_SSH_PORT,
      elevate_privileges_with: 'su+sudo',
      su_login: 'admin',
      escalation_account: 'root',
      escalation_password: 'admin-password',
    });
    expect(body.credentials?.add.Host.SSH).toEqual([
      expect.objectContaining({ elevate_privileges_with: 'su+sudo', su_user: 'admin', escalation_account: 'root' }),
    ]);
    expect(report).toMatch(/Credentialed checks : yes/);
  });
});
