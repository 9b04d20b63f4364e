import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { ScannerInstanceConfig } from '../src/config.js';
import { NessusScanner, type NessusScannerOptions } from '../src/nessus-client.js';
import type { ApiCallEvent, ScannerLogger } from '../src/scanner.js';
import { FAKE_ACCESS_KEY, FAKE_PASSWORD, FAKE_SECRET_KEY, FAKE_USER, TEMPLATES, startFakeNessus, type FakeNessus } from './fake-nessus.js';
import { newTaskId, rejection, waitForTerminal } from './scanner-contract.js';

interface LogLine {
  level: string;
  obj: Record<string, unknown>;
  msg?: string;
}

function recordingLogger(lines: LogLine[]): ScannerLogger {
  const at =
    (level: string) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push({ level, obj, ...(msg !== undefined ? { msg } : {}) });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('NessusScanner against a local replay server', () => {
  let fake: FakeNessus;
  let dir: string;
  let clients: NessusScanner[] = [];

  const instance = (extra: Partial<ScannerInstanceConfig> = {}): ScannerInstanceConfig => ({
    instance_id: 'nessus-1',
    name: 'Nessus one',
    url: fake.url,
    access_key: FAKE_ACCESS_KEY,
    secret_key: FAKE_SECRET_KEY,
    max_concurrent_scans: 2,
    enabled: true,
    tls_verify: true,
    timeout_ms: 5_000,
    ...extra,
  });
  const sessionInstance = (extra: Partial<ScannerInstanceConfig> = {}): ScannerInstanceConfig => {
    const { access_key: _a, secret_key: _s, ...rest } = instance(extra);
    return { ...rest, username: FAKE_USER, password: FAKE_PASSWORD };
  };
  const client = (inst: ScannerInstanceConfig = instance(), extra: Partial<NessusScannerOptions> = {}): NessusScanner => {
    const scanner = new NessusScanner({
      poolName: 'default',
      instance: inst,
      exportPoll: { initialMs: 10, maxMs: 40, baseTimeoutMs: 2_000, perHostMs: 0 },
      ...extra,
    });
    clients.push(scanner);
    return scanner;
  };
  const createBody = (
    index = -1,
  ): { uuid: string; settings: Record<string, unknown>; credentials?: { add: { Host: { SSH: Array<Record<string, unknown>> } } } } => {
    const posts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/scans');
    return JSON.parse(posts.at(index)?.body ?? '{}') as ReturnType<typeof createBody>;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nmcp-client-'));
  });
  beforeEach(async () => {
    fake = await startFakeNessus();
  });
  afterEach(async () => {
    await Promise.all(clients.map((c) => c.close()));
    clients = [];
    await fake.close();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  describe('creating scans', () => {
    it('creates scans in its own folder, named after the task, with the template looked up by name once', async () => {
      const scanner = client();
      const taskId = 'ne_scan_20251201_143022_a1b2c3d4';
      await scanner.createScan({ taskId, name: 'DMZ sweep', description: 'weekly', targets: ['10.0.0.1', ' 10.0.0.0/30 '], scanType: 'untrusted' });
      await scanner.createScan({ taskId: newTaskId(), name: 'second', targets: ['10.0.0.2'], scanType: 'untrusted', template: 'basic' });

      const first = createBody(0);
      expect(first.uuid).toBe(TEMPLATES.find((t) => t.name === 'advanced')?.uuid);
      expect(first.settings).toMatchObject({ name: `[nmcp:${taskId}] DMZ sweep`, description: 'weekly', text_targets: '10.0.0.1,10.0.0.0/30', enabled: false });
      expect(first.credentials).toBeUndefined();
      expect(createBody(1).uuid).toBe(TEMPLATES.find((t) => t.name === 'basic')?.uuid);

      const folderPosts = fake.requests.filter((r) => r.method === 'POST' && r.path === '/folders');
      expect(folderPosts.map((r) => JSON.parse(r.body) as unknown)).toEqual([{ name: 'nessus-mcp' }]);
      const folderId = (await readFolders(fake)).find((f) => f.name === 'nessus-mcp')?.id;
      expect(first.settings.folder_id).toBe(folderId);
      expect(createBody(1).settings.folder_id).toBe(folderId);
      expect(fake.count('GET', /^\/editor\/scan\/templates$/)).toBe(1);
      const ours = fake.requests.filter((r) => r.headers['user-agent'] === 'nessus-mcp');
      expect(ours.length).toBeGreaterThan(4);
      expect(ours.every((r) => r.headers['x-apikeys'] === `accessKey=${FAKE_ACCESS_KEY}; secretKey=${FAKE_SECRET_KEY};`)).toBe(true);
    });

    it('reuses an existing folder of the configured name instead of creating another', async () => {
      await fetch(`${fake.url}/folders`, {
        method: 'POST',
        headers: { 'X-ApiKeys': `accessKey=${FAKE_ACCESS_KEY}; secretKey=${FAKE_SECRET_KEY}` },
        body: JSON.stringify({ name: 'team-scans' }),
      });
      const scanner = client(instance(), { folder: 'team-scans' });
      await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      expect(fake.count('POST', /^\/folders$/)).toBe(1);
      expect(createBody().settings.folder_id).toBe((await readFolders(fake)).find((f) => f.name === 'team-scans')?.id);
    });

    it('refuses a template the scanner does not offer, naming the ones it has', async () => {
      const error = await rejection(client().createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted', template: 'nope' }));
      expect(error.code).toBe('invalid_argument');
      expect(error.details?.templates).toEqual(['advanced', 'basic', 'discovery']);
    });

    it('sends SSH password credentials for a trusted scan, with its SSH port as the scan-wide settings.ssh_port string', async () => {
      await client().createScan({
        taskId: newTaskId(),
        name: 'trusted',
        targets: ['10.0.0.1'],
        scanType: 'trusted',
        credentials: { ssh_username: 'scan', ssh_password: 'scan-password', ssh_port: 2222 },
      });
      expect(createBody().settings.ssh_port).toBe('2222');
      expect(createBody().credentials).toEqual({
        add: { Host: { SSH: [{ auth_method: 'password', username: 'scan', password: 'scan-password', elevate_privileges_with: 'Nothing' }] } },
      });
    });

    it('leaves settings.ssh_port to Nessus (22) when no port is given', async () => {
      await client().createScan({
        taskId: newTaskId(),
        name: 'trusted',
        targets: ['10.0.0.1'],
        scanType: 'trusted',
        credentials: { ssh_username: 'scan', ssh_password: 'scan-password' },
      });
      expect(createBody().settings).not.toHaveProperty('ssh_port');
    });

    it.each(['sudo', 'su', 'pbrun', 'dzdo'] as const)('sends privilege escalation with %s and its account and password', async (method) => {
      await client().createScan({
        taskId: newTaskId(),
        name: 'privileged',
        targets: ['10.0.0.1'],
        scanType: 'privileged',
        credentials: {
          ssh_username: 'scan',
          ssh_password: 'scan-password',
          elevate_privileges_with: method,
          escalation_account: 'root',
          escalation_password: 'root-password',
        },
      });
      expect(createBody().credentials?.add.Host.SSH).toEqual([
        {
          auth_method: 'password',
          username: 'scan',
          password: 'scan-password',
          elevate_privileges_with: method,
          escalation_account: 'root',
          escalation_password: 'root-password',
        },
      ]);
    });

    it('sends the su login of su+sudo as su_user', async () => {
      await client().createScan({
        taskId: newTaskId(),
        name: 'privileged',
        targets: ['10.0.0.1'],
        scanType: 'privileged',
        credentials: {
          ssh_username: 'scan',
          ssh_password: 'scan-password',
          elevate_privileges_with: 'su+sudo',
          su_login: 'admin',
          escalation_account: 'root',
          escalation_password: 'admin-password',
        },
      });
      expect(createBody().credentials?.add.Host.SSH).toEqual([
        {
          auth_method: 'password',
          username: 'scan',
          password: 'scan-password',
          elevate_privileges_with: 'su+sudo',
          su_user: 'admin',
          escalation_account: 'root',
          escalation_password: 'admin-password',
        },
      ]);
    });

    it('uploads a private key and references the uploaded file for public key authentication', async () => {
      const key = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
      const taskId = newTaskId();
      await client().createScan({
        taskId,
        name: 'key',
        targets: ['10.0.0.1'],
        scanType: 'trusted',
        credentials: { ssh_username: 'scan', ssh_private_key: key, ssh_private_key_passphrase: 'pass-phrase' },
      });
      const upload = fake.requests.find((r) => r.path === '/file/upload');
      expect(upload?.headers['content-type']).toMatch(/^multipart\/form-data/);
      expect(upload?.body).toContain(key);
      expect(createBody().credentials?.add.Host.SSH).toEqual([
        {
          auth_method: 'public key',
          username: 'scan',
          private_key: `${taskId}.key`,
          private_key_passphrase: 'pass-phrase',
          elevate_privileges_with: 'Nothing',
        },
      ]);
    });

    it.each([
      ['a trusted scan without credentials', { scanType: 'trusted' as const }],
      ['both a password and a key', { scanType: 'trusted' as const, credentials: { ssh_username: 'u', ssh_password: 'p', ssh_private_key: 'k' } }],
      ['a privileged scan without an escalation method', { scanType: 'privileged' as const, credentials: { ssh_username: 'u', ssh_password: 'p' } }],
      ['an out-of-range SSH port', { scanType: 'trusted' as const, credentials: { ssh_username: 'u', ssh_password: 'p', ssh_port: 70000 } }],
      [
        'escalation on a trusted scan',
        { scanType: 'trusted' as const, credentials: { ssh_username: 'u', ssh_password: 'p', elevate_privileges_with: 'sudo' as const } },
      ],
      [
        'su+sudo without its su login',
        {
          scanType: 'privileged' as const,
          credentials: { ssh_username: 'u', ssh_password: 'p', elevate_privileges_with: 'su+sudo' as const, escalation_password: 'x' },
        },
      ],
    ])('rejects %s before calling Nessus', async (_label, fields) => {
      const error = await rejection(client().createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], ...fields }));
      expect(error.code).toBe('invalid_argument');
      expect(fake.count('POST', /^\/scans$/)).toBe(0);
    });
  });

  describe('status', () => {
    it('maps an unknown status to unknown, keeps answering, and logs it once', async () => {
      const lines: LogLine[] = [];
      const scanner = client(instance(), { logger: recordingLogger(lines) });
      fake.setFaults({ running_status: 'publishing-results' });
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      const first = await scanner.getStatus(scanId);
      const second = await scanner.getStatus(scanId);
      expect(first).toMatchObject({ state: 'unknown', rawStatus: 'publishing-results' });
      expect(second.state).toBe('unknown');
      expect(lines.filter((l) => l.level === 'warn' && l.obj.rawStatus === 'publishing-results')).toHaveLength(1);
    });

    it('reports progress from the hosts while running and 100 once completed', async () => {
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1', '10.0.0.2'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      const statuses = await waitForTerminal(scanner, scanId);
      expect(statuses.map((s) => [s.state, s.progress])).toEqual([
        ['running', 50],
        ['running', 50],
        ['completed', 100],
      ]);
      expect(statuses[0]?.hostsTotal).toBe(2);
    });
  });

  describe('sessions', () => {
    it('logs in again exactly once per expired session, then gives up with a non-retryable error', async () => {
      const scanner = client(sessionInstance());
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      expect(fake.count('POST', /^\/session$/)).toBe(1);
      fake.setFaults({ session_ttl_s: 0 });
      const before = fake.count('GET', /^\/scans\/\d+$/);
      const error = await rejection(scanner.getStatus(scanId));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: false, details: expect.objectContaining({ status: 401 }) });
      expect(fake.count('POST', /^\/session$/)).toBe(2);
      expect(fake.count('GET', /^\/scans\/\d+$/) - before).toBe(2);
    });

    it('shares one login between concurrent calls', async () => {
      const scanner = client(sessionInstance());
      await Promise.all([scanner.listOwnScans(), scanner.listOwnScans(), scanner.listOwnScans()]);
      expect(fake.count('POST', /^\/session$/)).toBe(1);
    });

    it('reports rejected API keys as unauthorized health, not as a crash', async () => {
      const health = await client(instance({ secret_key: 'wrong-secret-key' })).checkHealth();
      expect(health).toMatchObject({ healthy: false, status: 'unauthorized', serverStatus: 'ready' });
    });
  });

  describe('secrets', () => {
    it('never puts API keys, passwords, tokens or SSH secrets into errors or logs', async () => {
      // A hostile or buggy server echoing every header and body it got back in its error text.
      fake.override('POST', /^\/scans$/, (req, res, body) => {
        res.writeHead(400, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: `bad request ${JSON.stringify(req.headers)} ${body}` }));
      });
      fake.override('GET', /^\/scans\/\d+$/, (req, res) => {
        res.writeHead(503, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: `busy ${String(req.headers['x-cookie'])}` }));
      });
      const lines: LogLine[] = [];
      const keys = client(instance(), { logger: recordingLogger(lines) });
      const session = client(sessionInstance(), { logger: recordingLogger(lines) });
      const credentials = {
        ssh_username: 'scan',
        ssh_password: 'ssh-secret-pw',
        elevate_privileges_with: 'sudo' as const,
        escalation_password: 'sudo-secret-pw',
      };
      const errors = [
        await rejection(keys.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'privileged', credentials })),
        await rejection(session.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'privileged', credentials })),
        await rejection(session.getStatus('10')),
      ];
      const tokens = fake.requests.map((r) => /token=([0-9a-f]+)/.exec(String(r.headers['x-cookie']))?.[1]).filter((t): t is string => t !== undefined);
      expect(tokens.length).toBeGreaterThan(0);
      const text = JSON.stringify([errors.map((e) => ({ message: e.message, details: e.details, body: e.toBody(), cause: String(e.cause) })), lines]);
      expect(errors[0]?.message).toContain('[redacted]');
      for (const secret of [FAKE_ACCESS_KEY, FAKE_SECRET_KEY, FAKE_PASSWORD, 'ssh-secret-pw', 'sudo-secret-pw', ...tokens]) {
        expect(text).not.toContain(secret);
      }
    });
  });

  describe('errors', () => {
    it('treats a refused connection as retryable', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const { port } = closed.address() as AddressInfo;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const error = await rejection(client(instance({ url: `http://127.0.0.1:${port}` })).listOwnScans());
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true, details: expect.objectContaining({ cause_code: 'ECONNREFUSED' }) });
    });

    it('times out a call that gets no answer, as retryable', async () => {
      fake.override('GET', /^\/scans$/, () => undefined);
      const error = await rejection(client(instance({ timeout_ms: 150 })).listOwnScans());
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true, details: expect.objectContaining({ cause_code: 'ETIMEDOUT' }) });
    });

    it('treats a socket hang up as retryable', async () => {
      fake.override('GET', /^\/scans$/, (req) => req.socket.destroy());
      expect(await rejection(client().listOwnScans())).toMatchObject({ code: 'scanner_error', retryable: true });
    });

    it('treats other 4xx answers as not retryable, with the status and Nessus text', async () => {
      fake.override('POST', /^\/scans\/\d+\/launch$/, (_req, res) => {
        res.writeHead(403, { 'Content-Type': 'application/json' });
        res.end('{"error":"Scan is disabled"}');
      });
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      const error = await rejection(scanner.launchScan(scanId));
      expect(error).toMatchObject({
        code: 'scanner_error',
        retryable: false,
        details: expect.objectContaining({ status: 403, nessus_error: 'Scan is disabled', route: '/scans/:id/launch' }),
      });
    });

    it('refuses to delete a running scan with a conflict', async () => {
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      expect(await rejection(scanner.deleteScan(scanId))).toMatchObject({ code: 'conflict', details: expect.objectContaining({ status: 409 }) });
    });

    it('reports every API call with its templated route and status', async () => {
      const events: ApiCallEvent[] = [];
      const scanner = client(instance(), { onApiCall: (e) => events.push(e) });
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      await scanner.getStatus(scanId);
      await rejection(scanner.getStatus('999'));
      expect(events.map((e) => `${e.method} ${e.route} ${e.status}`)).toEqual([
        'GET /editor/scan/templates 200',
        'GET /folders 200',
        'POST /folders 200',
        'POST /scans 200',
        'GET /scans/:id 200',
        'GET /scans/:id 404',
      ]);
      expect(events.every((e) => e.instanceId === 'nessus-1' && e.durationMs >= 0)).toBe(true);
    });
  });

  describe('export', () => {
    const completed = async (scanner: NessusScanner): Promise<string> => {
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      await waitForTerminal(scanner, scanId);
      return scanId;
    };
    const leftovers = async (prefix: string): Promise<string[]> => (await readdir(dir)).filter((f) => f.includes(prefix));

    it('rejects a truncated download as retryable and leaves neither the file nor a temp file', async () => {
      const scanner = client();
      const scanId = await completed(scanner);
      fake.setFaults({ truncate_download: 0.5 });
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'truncated.nessus')));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: true });
      // Nessus was reached: the message says the body broke off, not that the scanner was unreachable.
      expect(error.message).toMatch(/export download from '.+' broke off after \d+ of \d+ bytes/);
      expect(await leftovers('truncated')).toEqual([]);
    });

    it('refuses a report larger than maxBytes and removes what it wrote', async () => {
      const scanner = client();
      const scanId = await completed(scanner);
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'too-big.nessus'), { maxBytes: 10 }));
      expect(error.code).toBe('payload_too_large');
      expect(await leftovers('too-big')).toEqual([]);
    });

    it('refuses to start a download the free disk space cannot hold, writing nothing', async () => {
      const scanner = client();
      const scanId = await completed(scanner);
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'no-space.nessus'), { freeBytes: 100 }));
      expect(error).toMatchObject({ code: 'internal', retryable: true, details: { reason: 'disk_full', free_bytes: 100 } });
      expect(error.message).toMatch(/only 0\.0 MB are free under the data directory \(DATA_DIR\); the download was not started/);
      expect(await leftovers('no-space')).toEqual([]);
    });

    it('asks for a new export when Nessus no longer knows the export file (404), three times, then fails for good', async () => {
      const scanner = client();
      const scanId = await completed(scanner);
      fake.setFaults({ export_mode: 'expired' });
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'expired.nessus')));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: false, details: expect.objectContaining({ export_requests: 3 }) });
      expect(error.message).toMatch(/3 export requests failed in a row.*HTTP 404/);
    });

    it('recognises an export failure reported as HTTP 500 {"status":"error"}', async () => {
      const scanner = client();
      const scanId = await completed(scanner);
      fake.setFaults({ export_mode: 'error_500' });
      const error = await rejection(scanner.exportReport(scanId, join(dir, 'e500.nessus')));
      expect(error).toMatchObject({ code: 'scanner_error', retryable: false, details: expect.objectContaining({ export_status: 'error' }) });
      expect(error.message).toContain('HTTP 500 {"status":"error"}');
    });

    it('refuses to export a running scan with a conflict', async () => {
      const scanner = client();
      const { scanId } = await scanner.createScan({ taskId: newTaskId(), name: 'x', targets: ['10.0.0.1'], scanType: 'untrusted' });
      await scanner.launchScan(scanId);
      await scanner.getStatus(scanId);
      expect(await rejection(scanner.exportReport(scanId, join(dir, 'running.nessus')))).toMatchObject({ code: 'conflict' });
    });

    it('stops waiting for an export when the caller aborts, with the abort reason', async () => {
      const scanner = client();
      const scanId = await completed(scanner);
      fake.setFaults({ export_mode: 'stuck' });
      const controller = new AbortController();
      const reason = new Error('task cancelled');
      const pending = scanner.exportReport(scanId, join(dir, 'aborted.nessus'), {
        signal: controller.signal,
        onProgress: (p) => p.phase === 'waiting' && controller.abort(reason),
      });
      await expect(pending).rejects.toBe(reason);
      expect(await leftovers('aborted')).toEqual([]);
    });

    it('re-logs in once when the session expires right before the download', async () => {
      const scanner = client(sessionInstance());
      const scanId = await completed(scanner);
      fake.override('GET', /^\/scans\/\d+\/export\/\d+\/status$/, (_req, res) => {
        fake.expireSessions();
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end('{"status":"ready"}');
      });
      const { bytes } = await scanner.exportReport(scanId, join(dir, 'relogin.nessus'));
      expect(bytes).toBeGreaterThan(0);
      expect(await readFile(join(dir, 'relogin.nessus'), 'utf8')).toContain('<NessusClientData_v2');
      expect(fake.count('POST', /^\/session$/)).toBe(2);
    });
  });
});

async function readFolders(fake: FakeNessus): Promise<Array<{ id: number; name: string }>> {
  const response = await fetch(`${fake.url}/folders`, { headers: { 'X-ApiKeys': `accessKey=${FAKE_ACCESS_KEY}; secretKey=${FAKE_SECRET_KEY}` } });
  return ((await response.json()) as { folders: Array<{ id: number; name: string }> }).folders;
}

describe('NessusScanner TLS', () => {
  let dir: string;
  let fake: FakeNessus;
  let certFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nmcp-tls-'));
    const keyFile = join(dir, 'key.pem');
    certFile = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    fake = await startFakeNessus({ tls: { key: await readFile(keyFile), cert: await readFile(certFile) } });
  });
  afterAll(async () => {
    await fake.close();
    await rm(dir, { recursive: true, force: true });
  });

  const scannerWith = (extra: Partial<ScannerInstanceConfig>): NessusScanner =>
    new NessusScanner({
      poolName: 'tls',
      instance: {
        instance_id: 'tls-1',
        name: 'TLS',
        url: fake.url,
        access_key: FAKE_ACCESS_KEY,
        secret_key: FAKE_SECRET_KEY,
        max_concurrent_scans: 1,
        enabled: true,
        tls_verify: true,
        timeout_ms: 5_000,
        ...extra,
      },
    });

  it('refuses a self-signed certificate by default, saying how to trust it', async () => {
    const scanner = scannerWith({});
    const error = await rejection(scanner.listOwnScans());
    await scanner.close();
    expect(error).toMatchObject({ code: 'scanner_error', retryable: false });
    expect(error.message).toContain('ca_file');
  });

  it('trusts the certificate given as ca_file', async () => {
    const scanner = scannerWith({ ca_file: certFile });
    await expect(scanner.listOwnScans()).resolves.toEqual([]);
    await scanner.close();
  });

  it('connects without verification only when tls_verify is false', async () => {
    const scanner = scannerWith({ tls_verify: false });
    await expect(scanner.listOwnScans()).resolves.toEqual([]);
    await scanner.close();
  });

  it('fails at construction when ca_file cannot be read', async () => {
    await writeFile(join(dir, 'empty'), '');
    expect(() => scannerWith({ ca_file: join(dir, 'missing.pem') })).toThrow(expect.objectContaining({ code: 'config_invalid' }));
  });
});
