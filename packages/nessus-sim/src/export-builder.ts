import type { ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { driftItems, hostDown } from './drift.js';
import type { HostSlot, HostTemplate } from './host-templates.js';
import { hostWindow } from './scan-state.js';
import type { CredentialVerdict } from './ssh-credentials.js';
import type { ScanTarget } from './targets.js';

/** Everything a `.nessus` export of one run depends on; no credentials, only their verdict. */
export interface ExportDocument {
  readonly scanName: string;
  readonly policyName: string;
  readonly targetTokens: readonly string[];
  /** Hosts written, in order (a cancelled or aborted run only has its finished hosts). */
  readonly hosts: readonly ScanTarget[];
  /** Hosts in the whole run, which the per-host scan windows are spread over. */
  readonly runHostCount: number;
  readonly startedAtMs: number;
  readonly durationMs: number;
  readonly credentials: CredentialVerdict;
  /** Per host: which scan of that address this is (1 = first); absent = first. */
  readonly hostRuns?: readonly number[];
  /** Drift rate of the run (see drift.ts). */
  readonly drift?: number;
}

export type Piece = Buffer | string;

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => {
    switch (char) {
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '&':
        return '&amp;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `HOST_START` format of real exports, e.g. `Thu Mar 20 00:30:57 2014` (UTC here). */
export function formatHostTime(ms: number): string {
  const date = new Date(ms);
  const time = [date.getUTCHours(), date.getUTCMinutes(), date.getUTCSeconds()].map((part) => String(part).padStart(2, '0')).join(':');
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${date.getUTCDate()} ${time} ${date.getUTCFullYear()}`;
}

function tag(name: string, value: string): string {
  return `<tag name="${name}">${escapeXml(value)}</tag>\n`;
}

function reportItem(attrs: { port: number; svc: string; id: number; name: string }, inner: string): string {
  return (
    `<ReportItem port="${attrs.port}" svc_name="${attrs.svc}" protocol="tcp" severity="0" pluginID="${attrs.id}" ` +
    `pluginName="${escapeXml(attrs.name)}" pluginFamily="Settings">\n${inner}</ReportItem>\n`
  );
}

function itemBody(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>\n`)
    .join('');
}

// Wording follows the real plugins' descriptions; outputs never carry the user name or secrets.
const VALID_CREDENTIALS_ITEM = reportItem(
  { port: 22, svc: 'ssh', id: 141118, name: 'Target Credential Status by Authentication Protocol - Valid Credentials Provided' },
  itemBody({
    description:
      'Valid credentials were provided for an authentication protocol on the remote target and Nessus was able to successfully authenticate to the target using that authentication protocol.',
    fname: 'host_credentials_valid.nasl',
    plugin_name: 'Target Credential Status by Authentication Protocol - Valid Credentials Provided',
    plugin_publication_date: '2020/10/15',
    plugin_type: 'summary',
    risk_factor: 'None',
    solution: 'n/a',
    synopsis: 'Valid credentials were provided for the remote host.',
    plugin_output: '\nNessus was able to log in to the remote host via the following :\n\n  Protocol        : SSH\n  Port            : 22\n',
  }),
);

const FAILED_CREDENTIALS_ITEMS =
  reportItem(
    { port: 0, svc: 'general', id: 21745, name: 'Authentication Failure - Local Checks Not Run' },
    itemBody({
      description: 'Nessus was unable to execute credentialed checks because it was not possible to log in to the remote host using the provided credentials.',
      fname: 'local_checks_failed.nasl',
      plugin_name: 'Authentication Failure - Local Checks Not Run',
      plugin_publication_date: '2006/06/23',
      plugin_type: 'summary',
      risk_factor: 'None',
      solution: 'Address the problem(s) so that local security checks are enabled.',
      synopsis: 'The local security checks have been disabled.',
      plugin_output:
        '\nThe following issues were reported :\n\n  - Plugin      : ssh_get_info2.nasl\n    Plugin ID   : 97993\n    Protocol    : SSH\n    Message     : \nCredentialed checks of the remote host were not possible : authentication failed.\n',
    }),
  ) +
  reportItem(
    { port: 22, svc: 'ssh', id: 104410, name: 'Target Credential Status by Authentication Protocol - Failure for Provided Credentials' },
    itemBody({
      description:
        'Nessus was unable to log into the detected authentication protocol, using the provided credentials, in order to perform credentialed checks.',
      fname: 'host_credentials_failed.nasl',
      plugin_name: 'Target Credential Status by Authentication Protocol - Failure for Provided Credentials',
      plugin_publication_date: '2017/11/06',
      plugin_type: 'summary',
      risk_factor: 'None',
      solution: 'Address the reported problem(s) so that credentialed checks can be executed.',
      synopsis: 'Nessus was unable to log into the remote host with the provided credentials.',
      plugin_output:
        '\nNessus was unable to log into the following host for which credentials have been provided :\n\n  Protocol        : SSH\n  Port            : 22\n  Message         : Authentication failed.\n',
    }),
  );

function policySection(doc: ExportDocument): string {
  const preference = (name: string, value: string): string => `<preference><name>${name}</name><value>${escapeXml(value)}</value></preference>\n`;
  return (
    `<Policy><policyName>${escapeXml(doc.policyName)}</policyName>\n<Preferences><ServerPreferences>\n` +
    preference('TARGET', doc.targetTokens.join(',')) +
    preference('scan_name', doc.scanName) +
    preference('port_range', 'default') +
    preference('safe_checks', 'yes') +
    preference('max_hosts', '30') +
    preference('max_checks', '4') +
    '</ServerPreferences>\n<PluginsPreferences></PluginsPreferences>\n</Preferences>\n' +
    '<FamilySelection></FamilySelection>\n<IndividualPluginSelection></IndividualPluginSelection>\n</Policy>\n'
  );
}

function* hostPieces(doc: ExportDocument, host: ScanTarget, index: number, template: HostTemplate): Generator<Piece> {
  const run = doc.hostRuns?.[index] ?? 1;
  const drift = doc.drift ?? 0;
  if (hostDown(host.ip, run, drift)) return;
  const window = hostWindow(index, doc.runHostCount);
  const startMs = doc.startedAtMs + window.start * doc.durationMs;
  const endMs = doc.startedAtMs + window.end * doc.durationMs;
  const credentialed = doc.credentials === 'valid';
  const endSeconds = String(Math.floor(endMs / 1000));
  yield `<ReportHost name="${escapeXml(host.name)}"><HostProperties>\n` + tag('HOST_END_TIMESTAMP', endSeconds) + tag('HOST_END', formatHostTime(endMs));
  const slots: Record<HostSlot, string> = {
    credentialed_checks: credentialed ? 'yes' : 'no',
    scan_name: escapeXml(doc.scanName),
    host_ip: escapeXml(host.ip),
    host_name: escapeXml(host.fqdn ?? host.name),
  };
  for (const part of template.staticTags) yield typeof part === 'string' ? slots[part] : part;
  yield (
    tag('Credentialed_Scan', String(credentialed)) +
    tag(credentialed ? 'LastAuthenticatedResults' : 'LastUnauthenticatedResults', endSeconds) +
    tag('host-ip', host.ip) +
    (host.fqdn === undefined ? '' : tag('host-fqdn', host.fqdn)) +
    tag('HOST_START_TIMESTAMP', String(Math.floor(startMs / 1000))) +
    tag('HOST_START', formatHostTime(startMs)) +
    '</HostProperties>\n'
  );
  if (drift > 0 && run > 1) {
    // A drifted host is rebuilt as text; the first scan of a target streams the shared buffers.
    const items = template.body.map((part) => (typeof part === 'string' ? slots[part] : part.toString('utf8'))).join('');
    yield driftItems(items, host.ip, run, drift);
  } else {
    for (const part of template.body) yield typeof part === 'string' ? slots[part] : part;
  }
  if (doc.credentials === 'valid') yield VALID_CREDENTIALS_ITEM;
  else if (doc.credentials === 'invalid') yield FAILED_CREDENTIALS_ITEMS;
  yield '</ReportHost>\n';
}

/**
 * The export, piece by piece: big pieces are the templates' shared Buffers, so producing a host
 * allocates only its few rewritten lines, whatever the fixture size.
 */
export function* exportPieces(doc: ExportDocument, templates: readonly HostTemplate[]): Generator<Piece> {
  yield `<?xml version="1.0" ?>\n<NessusClientData_v2>\n${policySection(doc)}`;
  yield `<Report name="${escapeXml(doc.scanName)}" xmlns:cm="http://www.nessus.org/cm">\n`;
  for (const [index, host] of doc.hosts.entries()) {
    const template = templates[index % templates.length];
    if (template === undefined) throw new Error('no host template loaded');
    yield* hostPieces(doc, host, index, template);
  }
  yield '</Report>\n</NessusClientData_v2>\n';
}

/** Exact size of the export, computed without building it, so downloads carry Content-Length. */
export function exportByteLength(doc: ExportDocument, templates: readonly HostTemplate[]): number {
  let total = 0;
  for (const piece of exportPieces(doc, templates)) {
    total += typeof piece === 'string' ? Buffer.byteLength(piece) : piece.length;
  }
  return total;
}

/** Regroups pieces into `size`-byte chunks (the last one shorter). */
export function* rechunk(pieces: Iterable<Piece>, size: number): Generator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for (const piece of pieces) {
    let buffer = typeof piece === 'string' ? Buffer.from(piece) : piece;
    while (pendingBytes + buffer.length >= size) {
      const take = size - pendingBytes;
      pending.push(buffer.subarray(0, take));
      yield Buffer.concat(pending, size);
      buffer = buffer.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buffer.length > 0) {
      pending.push(buffer);
      pendingBytes += buffer.length;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
}

export type StreamMode = 'ok' | 'slow' | 'truncated';

/** `slow` mode pace: 16 KiB every 100 ms (160 KiB/s). */
export const SLOW_CHUNK_BYTES = 16 * 1024;
const SLOW_PAUSE_MS = 100;

/**
 * Writes the export respecting backpressure: waits for `drain` whenever the socket buffer is
 * full, and stops as soon as the client goes away. `truncated` sends about half of the declared
 * Content-Length and then destroys the socket.
 */
export async function streamExport(
  res: ServerResponse,
  doc: ExportDocument,
  templates: readonly HostTemplate[],
  mode: StreamMode,
  totalBytes: number,
): Promise<void> {
  let closed = false;
  res.once('close', () => {
    closed = true;
  });
  const write = async (chunk: Piece): Promise<boolean> => {
    if (closed || res.destroyed) return false;
    if (res.write(chunk)) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        res.off('drain', done);
        res.off('close', done);
        resolve();
      };
      res.on('drain', done);
      res.on('close', done);
    });
    return !closed;
  };
  if (mode === 'slow') {
    for (const chunk of rechunk(exportPieces(doc, templates), SLOW_CHUNK_BYTES)) {
      if (!(await write(chunk))) return;
      await sleep(SLOW_PAUSE_MS);
    }
  } else {
    const cutAt = mode === 'truncated' ? Math.floor(totalBytes / 2) : Number.POSITIVE_INFINITY;
    let sent = 0;
    for (const piece of exportPieces(doc, templates)) {
      const buffer = typeof piece === 'string' ? Buffer.from(piece) : piece;
      if (sent + buffer.length >= cutAt) {
        // Wait until the partial body is handed to the socket, then kill the connection mid-body.
        await new Promise<void>((resolve) => res.write(buffer.subarray(0, cutAt - sent), () => resolve()));
        res.destroy();
        return;
      }
      if (!(await write(buffer))) return;
      sent += buffer.length;
    }
  }
  if (!closed) res.end();
}
