import { AppError } from '@nessus-mcp/core/errors';
import type { ScannerInstanceConfig } from './config.js';
import { DEFAULT_FOLDER } from './config.js';
import { credentialSecrets } from '@nessus-mcp/core/scan-credentials';
import { nessusCredentialFragment, validateScanCredentials, type NessusCredentialFragment } from './credentials.js';
import { downloadToFile } from './nessus-download.js';
import { httpError, licenceError } from './nessus-errors.js';
import { abortReason, NessusHttp, parseJson, pause } from './nessus-http.js';
import {
  readCreatedId,
  readCreatedScan,
  readExportFile,
  readExportStatus,
  readFolderList,
  readLaunch,
  readScanDetails,
  readScanList,
  readServerProperties,
  readServerProgress,
  readServerStatus,
  readTemplates,
  readUpload,
} from './nessus-responses.js';
import type { SecretRedactor } from './redaction.js';
import { formatScanName, parseTaskId } from './scan-name.js';
import type { ApiCallHook, CreateScanRequest, ExportOptions, OwnScan, ScanStatus, Scanner, ScannerHealth, ScannerLogger } from './scanner.js';
import { silentLogger } from './scanner.js';
import { computeProgress, mapNessusStatus } from './status-mapping.js';

export interface ExportPollOptions {
  /** First wait between export status polls. Default 1 s. */
  initialMs?: number;
  /** Longest wait between polls (the backoff doubles up to this). Default 10 s. */
  maxMs?: number;
  /** Time allowed for an export of an empty scan. Default 10 min. */
  baseTimeoutMs?: number;
  /** Extra time allowed per scanned host. Default 2 s. */
  perHostMs?: number;
  /** Hard cap however large the scan. Default 2 h. */
  maxTimeoutMs?: number;
}

export interface NessusScannerOptions {
  poolName: string;
  instance: ScannerInstanceConfig;
  /** Folder holding this system's scans. Default `nessus-mcp`. */
  folder?: string;
  logger?: ScannerLogger;
  onApiCall?: ApiCallHook;
  exportPoll?: ExportPollOptions;
  /** New exports requested for one report before giving up (an export Nessus failed or lost). Default 3. */
  maxExportRequests?: number;
  /** A download fails when no byte arrives for this long. Default: the instance's `timeout_ms`. */
  downloadIdleTimeoutMs?: number;
}

const DEFAULT_TEMPLATE = 'advanced';

/**
 * Nessus REST client (documented API only) implementing `Scanner`. One instance per configured
 * Nessus server; it keeps a keep-alive connection pool, the session token (session auth), the
 * template list and this system's folder id.
 */
export class NessusScanner implements Scanner {
  readonly kind = 'nessus';
  readonly poolName: string;
  readonly instanceId: string;

  private readonly folderName: string;
  private readonly idleTimeoutMs: number;
  private readonly log: ScannerLogger;
  private readonly poll: Required<ExportPollOptions>;
  private readonly maxExportRequests: number;
  private readonly http: NessusHttp;

  private templates: Promise<Map<string, string>> | null = null;
  private folderId: Promise<string> | null = null;
  private readonly unknownStatusesLogged = new Set<string>();

  constructor(options: NessusScannerOptions) {
    const { instance } = options;
    this.poolName = options.poolName;
    this.instanceId = instance.instance_id;
    this.folderName = options.folder ?? DEFAULT_FOLDER;
    this.idleTimeoutMs = options.downloadIdleTimeoutMs ?? instance.timeout_ms;
    this.log = options.logger ?? silentLogger;
    this.poll = {
      initialMs: options.exportPoll?.initialMs ?? 1_000,
      maxMs: options.exportPoll?.maxMs ?? 10_000,
      baseTimeoutMs: options.exportPoll?.baseTimeoutMs ?? 10 * 60_000,
      perHostMs: options.exportPoll?.perHostMs ?? 2_000,
      maxTimeoutMs: options.exportPoll?.maxTimeoutMs ?? 2 * 60 * 60_000,
    };
    this.maxExportRequests = options.maxExportRequests ?? 3;
    this.http = new NessusHttp({ instance, logger: this.log, onApiCall: options.onApiCall });
  }

  private get redactor(): SecretRedactor {
    return this.http.redactor;
  }

  async close(): Promise<void> {
    this.http.close();
  }

  // ---- Scanner ----

  async createScan(request: CreateScanRequest, signal?: AbortSignal): Promise<{ scanId: string }> {
    const credentials = validateScanCredentials(request.scanType, request.credentials);
    const targets = request.targets.map((t) => t.trim()).filter((t) => t !== '');
    if (targets.length === 0) throw new AppError('invalid_argument', 'targets must not be empty');
    const name = formatScanName(request.taskId, request.name);
    const redactor = this.redactor.with(credentialSecrets(credentials));

    const templateUuid = await this.templateUuid(request.template ?? DEFAULT_TEMPLATE, signal);
    const folderId = await this.ensureFolder(signal);
    let fragment: NessusCredentialFragment | undefined;
    if (credentials && request.scanType !== 'untrusted') {
      const keyName = credentials.ssh_private_key ? await this.uploadPrivateKey(request.taskId, credentials.ssh_private_key, signal, redactor) : undefined;
      fragment = nessusCredentialFragment(request.scanType, credentials, keyName);
    }
    const body = {
      uuid: templateUuid,
      settings: {
        name,
        ...(request.description ? { description: request.description } : {}),
        text_targets: targets.join(','),
        folder_id: Number(folderId),
        enabled: false,
        launch: 'ON_DEMAND',
        ...fragment?.settings,
      },
      ...(fragment ? { credentials: fragment.credentials } : {}),
    };
    const scanId = readCreatedScan(await this.licenceGated('/scans', signal, () => this.http.call('POST', '/scans', { json: body, signal, redactor })));
    this.log.info({ scanId, taskId: request.taskId, scanType: request.scanType, targets: targets.length }, 'nessus scan created');
    return { scanId };
  }

  async launchScan(scanId: string, signal?: AbortSignal): Promise<{ runId: string }> {
    const runId = readLaunch(
      await this.licenceGated('/scans/:id/launch', signal, () => this.http.call('POST', '/scans/:id/launch', { params: { id: scanId }, signal })),
    );
    this.log.info({ scanId, runId }, 'nessus scan launched');
    return { runId };
  }

  async getStatus(scanId: string, signal?: AbortSignal): Promise<ScanStatus> {
    const details = readScanDetails(await this.http.call('GET', '/scans/:id', { params: { id: scanId }, signal, retry: true }));
    const state = mapNessusStatus(details.status);
    if (state === 'unknown' && !this.unknownStatusesLogged.has(details.status)) {
      this.unknownStatusesLogged.add(details.status);
      this.log.warn({ scanId, rawStatus: details.status }, 'nessus reported a scan status this system does not know; polling on');
    }
    return {
      state,
      rawStatus: details.status,
      progress: computeProgress(details.hosts, state, details.hostCount),
      ...(details.hostCount !== null ? { hostsTotal: details.hostCount } : {}),
    };
  }

  async stopScan(scanId: string, signal?: AbortSignal): Promise<void> {
    try {
      // A repeated stop is harmless: the second one answers 409, read below as "nothing to stop".
      await this.http.call('POST', '/scans/:id/stop', { params: { id: scanId }, signal, retry: true });
      this.log.info({ scanId }, 'nessus scan stop requested');
    } catch (error) {
      // 409: the state does not allow a stop, i.e. the scan is not running (docs/nessus-api.md §B.3.9).
      if (error instanceof AppError && error.code === 'conflict') {
        this.log.debug({ scanId }, 'nessus scan was not running; nothing to stop');
        return;
      }
      throw error;
    }
  }

  async deleteScan(scanId: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.http.call('DELETE', '/scans/:id', { params: { id: scanId }, signal });
      this.log.info({ scanId }, 'nessus scan deleted');
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return;
      throw error;
    }
  }

  /**
   * Requests a `.nessus` export (or resumes `options.resumeFile`), waits for it and streams it to
   * `destPath`. An export Nessus failed (`error`, or 500 then 404) or lost (404 straight after
   * the request) is requested anew, at most `maxExportRequests` times in all.
   */
  async exportReport(scanId: string, destPath: string, options: ExportOptions = {}): Promise<{ bytes: number }> {
    const { signal } = options;
    const details = readScanDetails(await this.http.call('GET', '/scans/:id', { params: { id: scanId }, signal, retry: true }));
    const budget = Math.min(this.poll.maxTimeoutMs, this.poll.baseTimeoutMs + this.poll.perHostMs * (details.hostCount ?? details.hosts.length));
    const deadline = Date.now() + budget;
    let file = options.resumeFile ?? null;
    let requests = 0;
    const failures: string[] = [];
    for (;;) {
      if (file === null) {
        if (requests >= this.maxExportRequests) throw this.exportGaveUp(scanId, failures);
        // A second export of the same scan only costs Nessus a file, so a lost answer may be asked again.
        file = readExportFile(await this.http.call('POST', '/scans/:id/export', { params: { id: scanId }, json: { format: 'nessus' }, signal, retry: true }));
        requests += 1;
        await options.onExportFile?.(file);
        options.onProgress?.({ phase: 'requested' });
      }
      const outcome = (await this.waitForExport(scanId, file, deadline, budget, options)) ?? (await this.downloadExport(scanId, file, destPath, options));
      if (typeof outcome === 'number') {
        this.log.info({ scanId, bytes: outcome, exports_requested: requests }, 'nessus export downloaded');
        return { bytes: outcome };
      }
      this.log.warn({ scanId, file, reason: outcome }, 'nessus export failed; requesting a new one');
      failures.push(`export ${file}: ${outcome}`);
      file = null;
    }
  }

  /** Polls an export until ready (null), or says why a new export is needed. Throws when time runs out. */
  private async waitForExport(scanId: string, file: string, deadline: number, budget: number, options: ExportOptions): Promise<string | null> {
    const { signal } = options;
    const route = '/scans/:id/export/:file/status';
    let delay = this.poll.initialMs;
    for (;;) {
      let status: string;
      try {
        status = readExportStatus(await this.http.call('GET', route, { params: { id: scanId, file }, signal, retry: true }));
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        // Export failure is also reported as HTTP 500 {"status":"error"} (seccubus#371, §B.3.10).
        if (error.details?.nessus_error === 'error') return 'Nessus failed to generate it (HTTP 500 {"status":"error"})';
        // 404 "The requested file was not found": the export expired, the server restarted, or
        // (Nessus Manager with linked scanners) it was never found at all; only a new export helps.
        if (error.code === 'not_found') return 'Nessus no longer knows the file (HTTP 404)';
        throw error;
      }
      if (status === 'ready') return null;
      if (status === 'error') return 'Nessus failed to generate it (status "error")';
      if (Date.now() + delay > deadline) {
        throw new AppError(
          'scanner_error',
          `Nessus instance '${this.instanceId}' did not finish the export of scan ${scanId} within ${Math.round(budget / 1000)} s (last status '${status}').`,
          {
            retryable: true,
            details: { instance_id: this.instanceId, scan_id: scanId, file, export_status: status },
          },
        );
      }
      options.onProgress?.({ phase: 'waiting' });
      await pause(delay, signal);
      delay = Math.min(delay * 2, this.poll.maxMs);
    }
  }

  /**
   * Downloads a ready export, starting the stream over after a 5xx or a broken-off body (the
   * same bounded, jittered retries as a read). Returns the byte count, or why a new export is
   * needed when the file is gone.
   */
  private async downloadExport(scanId: string, file: string, destPath: string, options: ExportOptions): Promise<number | string> {
    const route = '/scans/:id/export/:file/download';
    try {
      return await this.http.retrying(route, options.signal, () =>
        downloadToFile(this.http, { route, params: { id: scanId, file }, destPath, idleTimeoutMs: this.idleTimeoutMs }, options),
      );
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return 'the ready file was gone at download (HTTP 404)';
      throw error;
    }
  }

  private exportGaveUp(scanId: string, failures: readonly string[]): AppError {
    return new AppError(
      'scanner_error',
      `Nessus instance '${this.instanceId}' could not produce an export of scan ${scanId}: ${failures.length} export requests failed in a row (${failures.join('; ')}). ` +
        "Check the scanner's free disk space and its logs, then retry the task.",
      { retryable: false, details: { instance_id: this.instanceId, scan_id: scanId, export_requests: failures.length, export_status: 'error' } },
    );
  }

  /**
   * Nessus 10.8 refuses a licence-gated call by closing the connection before any status line
   * (pyTenable#840), which looks like any network drop. After such a drop, `/server/properties`
   * is asked once: when its licence has the scan API off, the refusal is the licence error;
   * otherwise the drop stands (retryable).
   */
  private async licenceGated<T>(route: string, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'scanner_error' || error.details?.status !== undefined || signal?.aborted) throw error;
      let scanApi: boolean | null;
      try {
        scanApi = readServerProperties(await this.http.call('GET', '/server/properties', { signal, retry: true })).scanApi;
      } catch {
        throw error;
      }
      if (scanApi !== false) throw error;
      throw licenceError({ instanceId: this.instanceId, method: 'POST', route }, 'connection closed without an answer; licence has scan_api: false');
    }
  }

  async checkHealth(signal?: AbortSignal): Promise<ScannerHealth> {
    const started = Date.now();
    const base = { instanceId: this.instanceId, poolName: this.poolName, kind: this.kind };
    const result = (fields: Omit<ScannerHealth, 'instanceId' | 'poolName' | 'kind' | 'checkedAt' | 'latencyMs'>): ScannerHealth => ({
      ...base,
      ...fields,
      checkedAt: Date.now(),
      latencyMs: Date.now() - started,
    });
    const empty = { serverStatus: null, serverProgress: null, version: null, product: null, licence: null, scanApi: null };
    let serverStatus: string | null;
    let serverProgress: number | null = null;
    try {
      // 503 {"status":"loading","progress":N} while plugins compile is an answer, not a failure (§B.3.1).
      const answer = await this.http.raw('GET', '/server/status', { signal, auth: false });
      const body = parseJson(answer.text);
      serverStatus = readServerStatus(body);
      if (answer.status >= 400 && serverStatus !== 'loading') {
        throw httpError({ instanceId: this.instanceId, method: 'GET', route: '/server/status' }, answer.status, answer.text, this.redactor);
      }
      if (serverStatus === 'loading') serverProgress = readServerProgress(body);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      return result({ ...empty, healthy: false, status: 'unreachable', message: error instanceof Error ? error.message : 'unreachable' });
    }
    const starting = (): string =>
      `Nessus is starting (status '${serverStatus ?? 'unknown'}'${serverProgress === null ? '' : `, ${serverProgress}%`}); scans wait until it is ready.`;
    if (serverStatus === 'loading') {
      // A loading server answers little else (the rest of the API may refuse): report what we know.
      return result({ ...empty, serverStatus, serverProgress, healthy: false, status: 'starting', message: starting() });
    }
    try {
      const props = readServerProperties(await this.http.call('GET', '/server/properties', { signal }));
      const fields = { serverStatus, serverProgress, version: props.version, product: props.product, licence: props.licence, scanApi: props.scanApi };
      if (props.scanApi === false) {
        return result({
          ...fields,
          healthy: false,
          status: 'licence_restricted',
          message: 'This Nessus edition does not allow scan control over the API (licence scan_api: false).',
        });
      }
      if (serverStatus !== 'ready') {
        return result({ ...fields, healthy: false, status: 'starting', message: starting() });
      }
      return result({ ...fields, healthy: true, status: 'ok', message: null });
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      const appError = error instanceof AppError ? error : null;
      const status = appError?.details?.status === 401 ? 'unauthorized' : appError?.code === 'scanner_unavailable' ? 'licence_restricted' : 'unreachable';
      return result({ ...empty, serverStatus, healthy: false, status, message: error instanceof Error ? error.message : String(error) });
    }
  }

  async listOwnScans(signal?: AbortSignal): Promise<OwnScan[]> {
    const { folders, scans } = readScanList(await this.http.call('GET', '/scans', { signal, retry: true }));
    const ours = new Set(folders.filter((f) => f.name === this.folderName).map((f) => f.id));
    return scans.flatMap((scan) => {
      const taskId = parseTaskId(scan.name);
      if (taskId === null || scan.folderId === null || !ours.has(scan.folderId)) return [];
      return [{ scanId: scan.id, taskId, name: scan.name, rawStatus: scan.status, lastModified: scan.lastModified }];
    });
  }

  // ---- lookups cached per client ----

  private templateUuid(name: string, signal: AbortSignal | undefined): Promise<string> {
    this.templates ??= this.http.call('GET', '/editor/scan/templates', { signal, retry: true }).then(readTemplates);
    const pending = this.templates;
    return pending.then(
      (byName) => {
        const uuid = byName.get(name);
        if (uuid === undefined) {
          throw new AppError('invalid_argument', `Nessus instance '${this.instanceId}' has no scan template named '${name}'`, {
            details: { instance_id: this.instanceId, templates: [...byName.keys()].sort() },
          });
        }
        return uuid;
      },
      (error: unknown) => {
        if (this.templates === pending) this.templates = null;
        throw error;
      },
    );
  }

  /** Id of this system's folder (the oldest of that name), or null when there is none. */
  private async findFolder(signal: AbortSignal | undefined): Promise<string | null> {
    const existing = readFolderList(await this.http.call('GET', '/folders', { signal, retry: true })).filter((f) => f.name === this.folderName);
    return existing.sort((a, b) => Number(a.id) - Number(b.id))[0]?.id ?? null;
  }

  private ensureFolder(signal: AbortSignal | undefined): Promise<string> {
    this.folderId ??= (async () => {
      const existing = await this.findFolder(signal);
      if (existing !== null) return existing;
      try {
        const id = readCreatedId(await this.http.call('POST', '/folders', { json: { name: this.folderName }, signal }), 'folder creation');
        this.log.info({ folder: this.folderName, folderId: id }, 'created nessus folder for this system');
        return id;
      } catch (error) {
        // Another worker created it between our look and our create: Nessus refuses a second
        // folder of the same name (400), and theirs is the one to use.
        const raced = error instanceof AppError && error.details?.status === 400 ? await this.findFolder(signal) : null;
        if (raced === null) throw error;
        return raced;
      }
    })();
    const pending = this.folderId;
    return pending.catch((error: unknown) => {
      if (this.folderId === pending) this.folderId = null;
      throw error;
    });
  }

  /** Nessus takes key material as an uploaded file referenced by name (`private_key`). */
  private async uploadPrivateKey(taskId: string, key: string, signal: AbortSignal | undefined, redactor: SecretRedactor): Promise<string> {
    const form = new FormData();
    form.set('Filedata', new Blob([key], { type: 'application/octet-stream' }), `${taskId}.key`);
    form.set('no_enc', '0');
    return readUpload(await this.http.call('POST', '/file/upload', { form, signal, redactor }));
  }
}
