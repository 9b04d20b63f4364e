import { randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

/**
 * A small Nessus stand-in replaying the recorded shapes of docs/nessus-api.md: `{"error":...}` bodies,
 * `scans: null` when empty, Trash=2 / My Scans=3, 52-char run UUIDs, export loading → ready, and
 * the 412 variants. Fault keys mirror the simulator's `/_sim/faults` so one contract suite drives
 * both. Scans advance one state per status poll, so tests never wait on a clock.
 */

export const FAKE_ACCESS_KEY = 'fake-access-key-0123456789abcdef';
export const FAKE_SECRET_KEY = 'fake-secret-key-fedcba9876543210';
export const FAKE_USER = 'admin';
export const FAKE_PASSWORD = 'fake-admin-password';

export const TEMPLATES = [
  { uuid: 'ad629e16-03b6-8c1d-cef6-ef8c9dd3c658d24bd260ef5f9e66', name: 'advanced', title: 'Advanced Scan' },
  { uuid: '731a8e52-3ea6-a291-ec0a-d2ff0619c19d7bd788d6be818b65', name: 'basic', title: 'Basic Network Scan' },
  { uuid: 'bbd4f805-3966-d464-b2d1-0079eb89d69708c3a05ec2812bcf', name: 'discovery', title: 'Host Discovery' },
];

export interface FakeFaults {
  licence_412: 'clean' | 'drop' | 'empty' | null;
  /** 0 or 1 here: every API call answers 500. */
  error_rate: number;
  /** 0: every session token is already expired when used (re-login cannot help). */
  session_ttl_s: number | null;
  export_mode: 'ok' | 'stuck' | 'error' | 'error_500' | 'expired';
  scan_outcome: 'completed' | 'aborted';
  /** Download sends this share of its announced Content-Length, then drops the socket. */
  truncate_download: number | null;
  server_loading: boolean;
  /** Status word the scan reports while running (an unknown word tests the mapping). */
  running_status: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface FakeScan {
  id: number;
  name: string;
  folderId: number;
  targets: string[];
  status: string;
  polls: number;
  lastModified: number;
  body: unknown;
}

export interface FakeNessus {
  url: string;
  requests: RecordedRequest[];
  scans: Map<number, FakeScan>;
  setFaults(patch: Partial<FakeFaults>): void;
  resetFaults(): void;
  /** Invalidates every session token issued so far. */
  expireSessions(): void;
  /** Routes (e.g. `POST /session`) counted by method and path pattern. */
  count(method: string, pathPattern: RegExp): number;
  /** A handler overriding one route, for one-off shapes (echoed secrets, hangs). */
  override(method: string, pathPattern: RegExp, handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): void;
  close(): Promise<void>;
}

const DEFAULT_FAULTS: FakeFaults = {
  licence_412: null,
  error_rate: 0,
  session_ttl_s: null,
  export_mode: 'ok',
  scan_outcome: 'completed',
  truncate_download: null,
  server_loading: false,
  running_status: 'running',
};

/** Writes the 412 licence refusal in one of its three observed wire forms (§B.2). */
function licence(res: ServerResponse, mode: NonNullable<FakeFaults['licence_412']>): void {
  const body = '{"error":"API is not available"}';
  if (mode === 'empty') {
    res.writeHead(412, { 'Content-Type': 'application/json', 'Content-Length': '0', Connection: 'close' });
    res.end();
    return;
  }
  res.writeHead(412, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' });
  if (mode === 'clean') {
    res.end(body);
    return;
  }
  res.flushHeaders();
  setImmediate(() => res.socket?.destroy());
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const body = value === undefined ? '' : JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function nessusReport(scan: FakeScan): string {
  const hosts = scan.targets
    .map(
      (t) =>
        `<ReportHost name="${t}"><HostProperties><tag name="host-ip">${t}</tag></HostProperties><ReportItem port="0" svc_name="general" protocol="tcp" severity="0" pluginID="19506" pluginName="Nessus Scan Information" pluginFamily="Settings"><plugin_output>Credentialed checks : no</plugin_output></ReportItem></ReportHost>`,
    )
    .join('');
  return `<?xml version="1.0" ?>\n<NessusClientData_v2><Report name="${scan.name}">${hosts}</Report></NessusClientData_v2>\n`;
}

export interface FakeNessusOptions {
  /** Serve HTTPS with this key/cert instead of HTTP. */
  tls?: { key: Buffer; cert: Buffer };
}

export async function startFakeNessus(options: FakeNessusOptions = {}): Promise<FakeNessus> {
  const faults: FakeFaults = { ...DEFAULT_FAULTS };
  const requests: RecordedRequest[] = [];
  const tokens = new Set<string>();
  const folders = [
    { unread_count: null, custom: 0, default_tag: 0, type: 'trash', name: 'Trash', id: 2 },
    { unread_count: null, custom: 0, default_tag: 1, type: 'main', name: 'My Scans', id: 3 },
  ];
  const scans = new Map<number, FakeScan>();
  const exports = new Map<number, { scanId: number; polls: number }>();
  const overrides: Array<{ method: string; pattern: RegExp; handler: (req: IncomingMessage, res: ServerResponse, body: string) => void }> = [];
  let nextId = 10;

  const authorised = (req: IncomingMessage): boolean => {
    const keys = req.headers['x-apikeys'];
    if (typeof keys === 'string') {
      const access = /accessKey=([^;\s]+)/.exec(keys)?.[1];
      const secret = /secretKey=([^;\s]+)/.exec(keys)?.[1];
      return access === FAKE_ACCESS_KEY && secret === FAKE_SECRET_KEY;
    }
    const cookie = req.headers['x-cookie'];
    const token = typeof cookie === 'string' ? /token=([0-9a-f]+)/.exec(cookie)?.[1] : undefined;
    return token !== undefined && tokens.has(token);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: string): void => {
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    for (const o of overrides) {
      if (o.method === method && o.pattern.test(path)) return o.handler(req, res, body);
    }
    if (method === 'GET' && path === '/server/status') {
      if (faults.server_loading) return json(res, 503, { status: 'loading', progress: 40 });
      return json(res, 200, { code: 200, status: 'ready', progress: null, pluginSet: true, pluginData: true, initLevel: 2 });
    }
    if (method === 'POST' && path === '/session') {
      const creds = JSON.parse(body || '{}') as { username?: string; password?: string };
      if (creds.username !== FAKE_USER || creds.password !== FAKE_PASSWORD) return json(res, 401, { error: 'Invalid Credentials' });
      const token = randomBytes(24).toString('hex');
      tokens.add(token);
      return json(res, 200, { token });
    }
    if (!req.headers['x-apikeys'] && !req.headers['x-cookie']) return json(res, 401, { error: 'You need to log in to perform this request' });
    if (faults.session_ttl_s === 0) tokens.clear();
    if (!authorised(req)) return json(res, 401, { error: 'Invalid Credentials' });
    if (faults.error_rate >= 1) return json(res, 500, { error: 'Internal Server Error' });

    const scanControl = /^\/scans(\/\d+(\/(launch|stop|pause|resume|copy))?)?$/.test(path) && method !== 'GET';
    if (scanControl && faults.licence_412) return licence(res, faults.licence_412);

    if (method === 'GET' && path === '/server/properties') {
      const scanApi = faults.licence_412 === null;
      return json(res, 200, {
        server_version: '10.8.3',
        nessus_type: scanApi ? 'Nessus Manager' : 'Nessus Professional',
        license: {
          type: scanApi ? 'manager' : 'pro',
          name: scanApi ? 'Nessus Manager' : 'Nessus Professional',
          restricted: false,
          ips: 256,
          features: { api: true, scan_api: scanApi },
        },
      });
    }
    if (method === 'GET' && path === '/editor/scan/templates')
      return json(res, 200, { templates: TEMPLATES.map((t) => ({ ...t, cloud_only: false, subscription_only: false, is_agent: null })) });
    if (method === 'GET' && path === '/folders') return json(res, 200, { folders });
    if (method === 'POST' && path === '/folders') {
      const id = nextId++;
      folders.push({ unread_count: null, custom: 1, default_tag: 0, type: 'custom', name: (JSON.parse(body) as { name: string }).name, id });
      return json(res, 200, { id });
    }
    if (method === 'POST' && path === '/file/upload') {
      const filename = /filename="([^"]+)"/.exec(body)?.[1];
      if (!filename || !body.includes('name="Filedata"')) return json(res, 400, { error: 'no file uploaded' });
      return json(res, 200, { fileuploaded: filename });
    }
    if (method === 'GET' && path === '/scans') {
      const list = [...scans.values()].map((s) => ({
        folder_id: s.folderId,
        type: null,
        read: true,
        last_modification_date: s.lastModified,
        creation_date: s.lastModified,
        status: s.status,
        uuid: null,
        shared: false,
        user_permissions: 128,
        owner: 'admin',
        timezone: null,
        rrules: null,
        starttime: null,
        enabled: false,
        control: true,
        name: s.name,
        id: s.id,
      }));
      return json(res, 200, { folders, scans: list.length ? list : null, timestamp: Math.floor(Date.now() / 1000) });
    }
    if (method === 'POST' && path === '/scans') {
      const parsed = JSON.parse(body) as { uuid?: string; settings?: { name?: string; text_targets?: string; folder_id?: number } };
      if (!TEMPLATES.some((t) => t.uuid === parsed.uuid) || !parsed.settings?.name) return json(res, 400, { error: 'Invalid template or settings' });
      const id = nextId++;
      const scan: FakeScan = {
        id,
        name: parsed.settings.name,
        folderId: parsed.settings.folder_id ?? 3,
        targets: (parsed.settings.text_targets ?? '').split(','),
        status: 'empty',
        polls: 0,
        lastModified: Math.floor(Date.now() / 1000),
        body: parsed,
      };
      scans.set(id, scan);
      return json(res, 200, {
        scan: {
          id,
          uuid: null,
          name: scan.name,
          owner: 'admin',
          enabled: false,
          creation_date: scan.lastModified,
          last_modification_date: scan.lastModified,
          default_permisssions: 0,
        },
      });
    }
    const m = /^\/scans\/(\d+)(\/.*)?$/.exec(path);
    const scan = m ? scans.get(Number(m[1])) : undefined;
    if (m && !scan) return json(res, 404, { error: 'The requested scan does not exist' });
    if (scan && m) {
      const rest = m[2] ?? '';
      if (method === 'GET' && rest === '') {
        if (scan.status === 'pending') scan.status = faults.running_status;
        else if (scan.status === faults.running_status && scan.status !== 'completed') {
          scan.polls += 1;
          if (scan.polls >= 2) scan.status = faults.scan_outcome;
        }
        const running = scan.status === faults.running_status;
        const done = scan.status === 'completed';
        return json(res, 200, {
          info: {
            status: scan.status,
            name: scan.name,
            uuid: 'e7ebc374-8a35-d416-5b9c-a33eb462aecb88cb0150c864700d',
            folder_id: scan.folderId,
            targets: scan.targets.join(','),
            hostcount: scan.targets.length,
            scan_start: 1,
            scan_end: null,
            scanner_end: null,
          },
          hosts:
            scan.status === 'empty' || scan.status === 'pending'
              ? []
              : scan.targets.map((t, i) => ({
                  host_id: i + 1,
                  hostname: t,
                  progress: '50',
                  scanprogresscurrent: done ? 100 : running ? 50 : 10,
                  scanprogresstotal: 100,
                })),
          vulnerabilities: [],
          history: [],
        });
      }
      if (method === 'POST' && rest === '/launch') {
        if (scan.status === 'running' || scan.status === 'pending') return json(res, 409, { error: 'Scan is already running' });
        scan.status = 'pending';
        scan.polls = 0;
        return json(res, 200, { scan_uuid: 'e7ebc374-8a35-d416-5b9c-a33eb462aecb88cb0150c864700d' });
      }
      if (method === 'POST' && rest === '/stop') {
        if (scan.status !== faults.running_status && scan.status !== 'pending') return json(res, 409, { error: 'Scan is not active' });
        scan.status = 'canceled';
        return json(res, 200, undefined);
      }
      if (method === 'DELETE' && rest === '') {
        if (scan.status === faults.running_status || scan.status === 'pending')
          return json(res, 409, { error: 'Scans in running, paused or stopping states can not be deleted' });
        scans.delete(scan.id);
        return json(res, 200, undefined);
      }
      if (method === 'POST' && rest === '/export') {
        if (scan.status === faults.running_status || scan.status === 'pending') return json(res, 409, { error: 'Can not export running scans' });
        const file = nextId++;
        exports.set(file, { scanId: scan.id, polls: 0 });
        return json(res, 200, { token: randomBytes(32).toString('hex'), file });
      }
      const e = /^\/export\/(\d+)\/(status|download)$/.exec(rest);
      const exp = e ? exports.get(Number(e[1])) : undefined;
      if (e && (!exp || exp.scanId !== scan.id || faults.export_mode === 'expired')) return json(res, 404, { error: 'The requested file was not found' });
      if (e && exp && e[2] === 'status') {
        exp.polls += 1;
        if (faults.export_mode === 'error') return json(res, 200, { status: 'error' });
        if (faults.export_mode === 'error_500') return json(res, 500, { status: 'error' });
        if (faults.export_mode === 'stuck' || exp.polls < 2) return json(res, 200, { status: 'loading' });
        return json(res, 200, { status: 'ready' });
      }
      if (e && exp && e[2] === 'download') {
        const report = Buffer.from(nessusReport(scan));
        res.writeHead(200, {
          'Content-Type': 'application/octet-stream',
          'Content-Disposition': `attachment; filename="scan_${scan.id}.nessus"`,
          'Content-Length': String(report.length),
        });
        if (faults.truncate_download !== null) {
          res.write(report.subarray(0, Math.floor(report.length * faults.truncate_download)));
          setImmediate(() => res.socket?.destroy());
          return;
        }
        res.end(report);
        return;
      }
    }
    json(res, 405, { error: 'The requested method is not allowed for this URL' });
  };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body });
      handle(req, res, body);
    });
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    scans,
    setFaults: (patch) => Object.assign(faults, patch),
    resetFaults: () => Object.assign(faults, DEFAULT_FAULTS),
    expireSessions: () => tokens.clear(),
    count: (method, pattern) => requests.filter((r) => r.method === method && pattern.test(r.path.split('?')[0] ?? '')).length,
    override: (method, pattern, handler) => overrides.push({ method, pattern, handler }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
