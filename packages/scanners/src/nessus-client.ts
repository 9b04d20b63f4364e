import { randomUUID } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { type Got, type Response } from 'got';
import { AppError, isStorageFailure, storageFailure } from '@nessus-mcp/core/errors';
import type { ScannerInstanceConfig } from './config.js';
import { DEFAULT_FOLDER } from './config.js';
import { credentialSecrets, credentialsPayload, toNessusSshCredential, validateScanCredentials } from './credentials.js';
import { type CallContext, httpError, transportError } from './nessus-errors.js';
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
  readServerStatus,
  readSessionToken,
  readTemplates,
  readUpload,
} from './nessus-responses.js';
import { SecretRedactor } from './redaction.js';
import { formatScanName, parseTaskId } from './scan-name.js';
import type {
  ApiCallHook,
  CreateScanRequest,
  ExportOptions,
  OwnScan,
  ScanStatus,
  Scanner,
  ScannerHealth,
  ScannerLogger,
} from './scanner.js';
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
  /** A download fails when no byte arrives for this long. Default: the instance's `timeout_ms`. */
  downloadIdleTimeoutMs?: number;
}

interface CallOptions {
  params?: Record<string, string>;
  json?: unknown;
  form?: FormData;
  query?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Send the auth header. `GET /server/status` and `POST /session` do without. */
  auth?: boolean;
  redactor?: SecretRedactor;
}

interface RawAnswer {
  status: number;
  text: string;
}

const DEFAULT_TEMPLATE = 'advanced';
/** Nessus error bodies are a line of JSON; more than this is a proxy page we only excerpt. */
const MAX_ERROR_BODY = 64 * 1024;
const PROGRESS_STEP_BYTES = 1024 * 1024;

function expandRoute(route: string, params: Record<string, string> = {}): string {
  return route.replace(/:([a-z_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new AppError('internal', `missing route parameter ${name} for ${route}`);
    return encodeURIComponent(value);
  });
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/**
 * Nessus REST client (documented API only) implementing `Scanner`. One instance per configured
 * Nessus server; it keeps a keep-alive connection pool, the session token (session auth), the
 * template list and this system's folder id.
 */
export class NessusScanner implements Scanner {
  readonly kind = 'nessus';
  readonly poolName: string;
  readonly instanceId: string;

  private readonly baseUrl: string;
  private readonly folderName: string;
  private readonly timeoutMs: number;
  private readonly idleTimeoutMs: number;
  private readonly log: ScannerLogger;
  private readonly onApiCall: ApiCallHook | undefined;
  private readonly poll: Required<ExportPollOptions>;
  private readonly redactor: SecretRedactor;
  private readonly http: Got;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly apiKeys: { access: string; secret: string } | null;
  private readonly login: { username: string; password: string } | null;

  private token: string | null = null;
  private loginInFlight: Promise<string> | null = null;
  private templates: Promise<Map<string, string>> | null = null;
  private folderId: Promise<string> | null = null;
  private readonly unknownStatusesLogged = new Set<string>();

  constructor(options: NessusScannerOptions) {
    const { instance } = options;
    this.poolName = options.poolName;
    this.instanceId = instance.instance_id;
    this.baseUrl = instance.url.replace(/\/+$/, '');
    this.folderName = options.folder ?? DEFAULT_FOLDER;
    this.timeoutMs = instance.timeout_ms;
    this.idleTimeoutMs = options.downloadIdleTimeoutMs ?? instance.timeout_ms;
    this.log = options.logger ?? silentLogger;
    this.onApiCall = options.onApiCall;
    this.poll = {
      initialMs: options.exportPoll?.initialMs ?? 1_000,
      maxMs: options.exportPoll?.maxMs ?? 10_000,
      baseTimeoutMs: options.exportPoll?.baseTimeoutMs ?? 10 * 60_000,
      perHostMs: options.exportPoll?.perHostMs ?? 2_000,
      maxTimeoutMs: options.exportPoll?.maxTimeoutMs ?? 2 * 60 * 60_000,
    };
    if (instance.access_key && instance.secret_key) {
      this.apiKeys = { access: instance.access_key, secret: instance.secret_key };
      this.login = null;
    } else if (instance.username && instance.password) {
      this.apiKeys = null;
      this.login = { username: instance.username, password: instance.password };
    } else {
      throw new AppError('config_invalid', `scanner instance '${instance.instance_id}' needs access_key and secret_key, or username and password`);
    }
    this.redactor = new SecretRedactor([instance.access_key, instance.secret_key, instance.password]);

    let ca: Buffer | undefined;
    if (instance.ca_file) {
      try {
        ca = readFileSync(instance.ca_file);
      } catch (error) {
        throw new AppError('config_invalid', `scanner instance '${instance.instance_id}': cannot read ca_file ${instance.ca_file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
    }
    this.agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
    // Retries belong to the worker (BullMQ attempts with backoff); got retrying underneath would
    // multiply them and could replay a non-idempotent POST /scans.
    this.http = got.extend({
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      agent: this.agents,
      https: { rejectUnauthorized: instance.tls_verify, ...(ca ? { certificateAuthority: ca } : {}) },
      headers: { accept: 'application/json', 'user-agent': 'nessus-mcp' },
    });
  }

  async close(): Promise<void> {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  // ---- Scanner ----

  async createScan(request: CreateScanRequest, signal?: AbortSignal): Promise<{ scanId: string }> {
    const credentials = validateScanCredentials(request.scanType, request.credentials);
    const targets = request.targets.map((t) => t.trim()).filter((t) => t !== '');
    if (targets.length === 0) throw new AppError('invalid_argument', 'targets must not be empty');
    const name = formatScanName(request.taskId, request.name);
    const redactor = this.redactor.with(credentialSecrets(credentials ?? undefined));

    const templateUuid = await this.templateUuid(request.template ?? DEFAULT_TEMPLATE, signal);
    const folderId = await this.ensureFolder(signal);
    let payload: ReturnType<typeof credentialsPayload> | undefined;
    if (credentials && request.scanType !== 'untrusted') {
      const keyName = credentials.privateKey ? await this.uploadPrivateKey(request.taskId, credentials.privateKey, signal, redactor) : undefined;
      payload = credentialsPayload(toNessusSshCredential(request.scanType, credentials, keyName));
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
      },
      ...(payload ? { credentials: payload } : {}),
    };
    const scanId = readCreatedScan(await this.call('POST', '/scans', { json: body, signal, redactor }));
    this.log.info({ scanId, taskId: request.taskId, scanType: request.scanType, targets: targets.length }, 'nessus scan created');
    return { scanId };
  }

  async launchScan(scanId: string, signal?: AbortSignal): Promise<{ runId: string }> {
    const runId = readLaunch(await this.call('POST', '/scans/:id/launch', { params: { id: scanId }, signal }));
    this.log.info({ scanId, runId }, 'nessus scan launched');
    return { runId };
  }

  async getStatus(scanId: string, signal?: AbortSignal): Promise<ScanStatus> {
    const details = readScanDetails(await this.call('GET', '/scans/:id', { params: { id: scanId }, signal }));
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
      await this.call('POST', '/scans/:id/stop', { params: { id: scanId }, signal });
      this.log.info({ scanId }, 'nessus scan stop requested');
    } catch (error) {
      // 409: the state does not allow a stop, i.e. the scan is not running (NESSUS_API.md §B.3.9).
      if (error instanceof AppError && error.code === 'conflict') {
        this.log.debug({ scanId }, 'nessus scan was not running; nothing to stop');
        return;
      }
      throw error;
    }
  }

  async deleteScan(scanId: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call('DELETE', '/scans/:id', { params: { id: scanId }, signal });
      this.log.info({ scanId }, 'nessus scan deleted');
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return;
      throw error;
    }
  }

  async exportReport(scanId: string, destPath: string, options: ExportOptions = {}): Promise<{ bytes: number }> {
    const { signal } = options;
    const details = readScanDetails(await this.call('GET', '/scans/:id', { params: { id: scanId }, signal }));
    const budget = Math.min(this.poll.maxTimeoutMs, this.poll.baseTimeoutMs + this.poll.perHostMs * (details.hostCount ?? details.hosts.length));
    const deadline = Date.now() + budget;

    const file = readExportFile(await this.call('POST', '/scans/:id/export', { params: { id: scanId }, json: { format: 'nessus' }, signal }));
    options.onProgress?.({ phase: 'requested' });
    const ctx: CallContext = { instanceId: this.instanceId, method: 'GET', route: '/scans/:id/export/:file/status' };
    let delay = this.poll.initialMs;
    for (;;) {
      let status: string;
      try {
        status = readExportStatus(await this.call('GET', ctx.route, { params: { id: scanId, file }, signal }));
      } catch (error) {
        throw this.exportPollError(error, ctx, scanId, file);
      }
      if (status === 'ready') break;
      if (status === 'error') throw this.exportFailed(ctx, scanId, file);
      if (Date.now() + delay > deadline) {
        throw new AppError('scanner_error', `Nessus instance '${this.instanceId}' did not finish the export of scan ${scanId} within ${Math.round(budget / 1000)} s (last status '${status}').`, {
          retryable: true,
          details: { instance_id: this.instanceId, scan_id: scanId, file, export_status: status },
        });
      }
      options.onProgress?.({ phase: 'waiting' });
      await this.pause(delay, signal);
      delay = Math.min(delay * 2, this.poll.maxMs);
    }
    const bytes = await this.download('/scans/:id/export/:file/download', { id: scanId, file }, destPath, options, true);
    this.log.info({ scanId, bytes }, 'nessus export downloaded');
    return { bytes };
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
    const empty = { serverStatus: null, version: null, product: null, licence: null, scanApi: null };
    let serverStatus: string | null;
    try {
      // 503 {"status":"loading"} while plugins compile is an answer, not a failure (§B.3.1).
      const answer = await this.raw('GET', '/server/status', { signal, auth: false });
      serverStatus = readServerStatus(parseJson(answer.text));
      if (answer.status >= 400 && serverStatus !== 'loading') {
        throw httpError({ instanceId: this.instanceId, method: 'GET', route: '/server/status' }, answer.status, answer.text, this.redactor);
      }
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      return result({ ...empty, healthy: false, status: 'unreachable', message: error instanceof Error ? error.message : 'unreachable' });
    }
    try {
      const props = readServerProperties(await this.call('GET', '/server/properties', { signal }));
      const fields = { serverStatus, version: props.version, product: props.product, licence: props.licence, scanApi: props.scanApi };
      if (props.scanApi === false) {
        return result({ ...fields, healthy: false, status: 'licence_restricted', message: 'This Nessus edition does not allow scan control over the API (licence scan_api: false).' });
      }
      if (serverStatus !== 'ready') {
        return result({ ...fields, healthy: false, status: 'loading', message: `Nessus is not ready (status '${serverStatus ?? 'unknown'}').` });
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
    const { folders, scans } = readScanList(await this.call('GET', '/scans', { signal }));
    const ours = new Set(folders.filter((f) => f.name === this.folderName).map((f) => f.id));
    return scans.flatMap((scan) => {
      const taskId = parseTaskId(scan.name);
      if (taskId === null || scan.folderId === null || !ours.has(scan.folderId)) return [];
      return [{ scanId: scan.id, taskId, name: scan.name, rawStatus: scan.status, lastModified: scan.lastModified }];
    });
  }

  // ---- lookups cached per client ----

  private templateUuid(name: string, signal: AbortSignal | undefined): Promise<string> {
    this.templates ??= this.call('GET', '/editor/scan/templates', { signal }).then(readTemplates);
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
    const existing = readFolderList(await this.call('GET', '/folders', { signal })).filter((f) => f.name === this.folderName);
    return existing.sort((a, b) => Number(a.id) - Number(b.id))[0]?.id ?? null;
  }

  private ensureFolder(signal: AbortSignal | undefined): Promise<string> {
    this.folderId ??= (async () => {
      const existing = await this.findFolder(signal);
      if (existing !== null) return existing;
      try {
        const id = readCreatedId(await this.call('POST', '/folders', { json: { name: this.folderName }, signal }), 'folder creation');
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
    return readUpload(await this.call('POST', '/file/upload', { form, signal, redactor }));
  }

  // ---- export helpers ----

  private exportFailed(ctx: CallContext, scanId: string, file: string): AppError {
    return new AppError('scanner_error', `Nessus instance '${this.instanceId}' failed to generate the export of scan ${scanId}; a new export may succeed.`, {
      retryable: true,
      details: { instance_id: ctx.instanceId, route: ctx.route, scan_id: scanId, file, export_status: 'error' },
    });
  }

  private exportPollError(error: unknown, ctx: CallContext, scanId: string, file: string): unknown {
    if (!(error instanceof AppError)) return error;
    // Export failure is also reported as HTTP 500 {"status":"error"} (seccubus#371, §B.3.10).
    if (error.details?.nessus_error === 'error') return this.exportFailed(ctx, scanId, file);
    // 404 "The requested file was not found": the export expired or the server restarted; only a new export helps.
    if (error.code === 'not_found') {
      return new AppError('scanner_error', `Nessus instance '${this.instanceId}' no longer knows export ${file} of scan ${scanId}; a new export is needed.`, {
        retryable: true,
        details: { ...error.details, scan_id: scanId, file },
      });
    }
    return error;
  }

  private async pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
    try {
      await sleep(ms, undefined, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw error;
    }
  }

  /**
   * Streams a download to a temp file beside `destPath`, then renames it: memory stays flat
   * (exports of 300–900 MB exist, §B.3.10) and a reader never sees a partial report.
   */
  private async download(route: string, params: Record<string, string>, destPath: string, options: ExportOptions, mayRelogin: boolean): Promise<number> {
    const { signal } = options;
    const ctx: CallContext = { instanceId: this.instanceId, method: 'GET', route };
    const url = this.baseUrl + expandRoute(route, params);
    const headers = await this.authHeaders(signal);
    const started = performance.now();
    const stream = this.http.stream(url, {
      headers,
      ...(signal ? { signal } : {}),
      // No total timeout: a large download legitimately takes minutes. Fail when it stalls.
      timeout: { response: this.timeoutMs, socket: this.idleTimeoutMs },
    });
    let response: Response;
    try {
      response = await new Promise<Response>((resolve, reject) => {
        stream.once('response', resolve);
        stream.once('error', reject);
      });
    } catch (error) {
      this.emit(ctx, 0, started);
      if (signal?.aborted) throw abortReason(signal);
      throw transportError(ctx, error, this.redactor);
    }
    const status = response.statusCode;
    if (status !== 200) {
      const text = await this.readSmall(stream);
      this.emit(ctx, status, started);
      if (status === 401 && mayRelogin && this.login) {
        this.dropToken(headers);
        return this.download(route, params, destPath, options, false);
      }
      throw httpError(ctx, status, text, this.redactor);
    }
    const header = response.headers['content-length'];
    const totalBytes = header === undefined ? undefined : Number(header);
    if (totalBytes !== undefined && options.freeBytes !== undefined && totalBytes > options.freeBytes) {
      stream.destroy();
      this.emit(ctx, status, started);
      const mb = (n: number): string => (n / 1048576).toFixed(1);
      throw new AppError('internal', `The export is ${mb(totalBytes)} MB but only ${mb(options.freeBytes)} MB are free under the data directory (DATA_DIR); the download was not started. Free disk space, then retry the task from the failed set.`, {
        retryable: true,
        details: { reason: 'disk_full', export_bytes: totalBytes, free_bytes: options.freeBytes },
      });
    }
    const tmp = join(dirname(destPath), `.${basename(destPath)}.${randomUUID()}.part`);
    let bytes = 0;
    let reported = 0;
    const { maxBytes, onProgress } = options;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        if (maxBytes !== undefined && bytes > maxBytes) {
          callback(new AppError('payload_too_large', `the export is larger than the allowed ${maxBytes} bytes`, { details: { max_bytes: maxBytes } }));
          return;
        }
        if (onProgress && bytes - reported >= PROGRESS_STEP_BYTES) {
          reported = bytes;
          onProgress({ phase: 'downloading', bytes, ...(totalBytes !== undefined ? { totalBytes } : {}) });
        }
        callback(null, chunk);
      },
    });
    // A failure to write the file here (a full DATA_DIR) is ours, not the scanner's: it must not
    // be reported as "could not reach Nessus", which sends people to debug the wrong machine.
    let localFailure: unknown = null;
    const file = createWriteStream(tmp, { flags: 'wx' });
    file.once('error', (error) => {
      localFailure ??= error;
    });
    try {
      await pipeline(stream, counter, file);
      if (totalBytes !== undefined && bytes !== totalBytes) {
        throw new AppError('scanner_error', `the export download from '${this.instanceId}' ended after ${bytes} of ${totalBytes} bytes`, {
          retryable: true,
          details: { instance_id: this.instanceId, route, bytes, expected_bytes: totalBytes },
        });
      }
      if (bytes === 0) {
        throw new AppError('scanner_error', `the export download from '${this.instanceId}' was empty`, { retryable: true, details: { instance_id: this.instanceId, route } });
      }
      await rename(tmp, destPath).catch((error: unknown) => {
        localFailure ??= error;
        throw error;
      });
    } catch (error) {
      await rm(tmp, { force: true });
      if (signal?.aborted) {
        this.emit(ctx, 0, started);
        throw abortReason(signal);
      }
      if (isStorageFailure(localFailure)) {
        this.emit(ctx, status, started);
        throw storageFailure(localFailure, `save the export of scan ${params['id'] ?? '?'} from '${this.instanceId}'`);
      }
      this.emit(ctx, 0, started);
      if (bytes > 0 && !(error instanceof AppError)) {
        // Nessus answered and the body broke off: "could not reach" would be the wrong story.
        const reason = this.redactor.redact(error instanceof Error ? error.message : String(error));
        throw new AppError('scanner_error', `the export download from '${this.instanceId}' broke off after ${bytes}${totalBytes === undefined ? '' : ` of ${totalBytes}`} bytes (${reason}); a new export may succeed.`, {
          retryable: true,
          cause: error,
          details: { instance_id: this.instanceId, route, bytes, ...(totalBytes === undefined ? {} : { expected_bytes: totalBytes }) },
        });
      }
      throw transportError(ctx, error, this.redactor);
    }
    this.emit(ctx, 200, started);
    onProgress?.({ phase: 'done', bytes, ...(totalBytes !== undefined ? { totalBytes } : {}) });
    return bytes;
  }

  private async readSmall(stream: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of stream) {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= MAX_ERROR_BODY) break;
      }
    } catch {
      // A 412 may close the socket before its body (§B.2); the status alone decides.
    }
    stream.destroy();
    return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
  }

  // ---- HTTP core ----

  /** A JSON call that throws an AppError for anything but 2xx; re-logs in once on a 401 in session mode. */
  private async call(method: string, route: string, options: CallOptions = {}): Promise<unknown> {
    const auth = options.auth ?? true;
    const headers = auth ? await this.authHeaders(options.signal) : {};
    let answer = await this.send(method, route, headers, options);
    // An expired session answers 401 "Invalid Credentials" (§B.1): one fresh login, one retry.
    if (answer.status === 401 && auth && this.login) {
      this.dropToken(headers);
      this.log.info({ route }, 'nessus session expired; logging in again');
      answer = await this.send(method, route, await this.authHeaders(options.signal), options);
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw httpError({ instanceId: this.instanceId, method, route }, answer.status, answer.text, options.redactor ?? this.redactor);
    }
    return parseJson(answer.text);
  }

  /** One request whatever its status; transport failures become AppErrors. */
  private async raw(method: string, route: string, options: CallOptions = {}): Promise<RawAnswer> {
    const headers = (options.auth ?? true) ? await this.authHeaders(options.signal) : {};
    return this.send(method, route, headers, options);
  }

  private async send(method: string, route: string, headers: Record<string, string>, options: CallOptions): Promise<RawAnswer> {
    const ctx: CallContext = { instanceId: this.instanceId, method, route };
    const url = this.baseUrl + expandRoute(route, options.params);
    const started = performance.now();
    try {
      const response = await this.http(url, {
        method: method as 'GET',
        headers,
        responseType: 'text',
        timeout: { request: this.timeoutMs },
        ...(options.json !== undefined ? { json: options.json } : {}),
        ...(options.form !== undefined ? { body: options.form } : {}),
        ...(options.query ? { searchParams: options.query } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      this.emit(ctx, response.statusCode, started);
      const text = response.body.length > MAX_ERROR_BODY && response.statusCode >= 300 ? response.body.slice(0, MAX_ERROR_BODY) : response.body;
      if (response.statusCode >= 400) {
        this.log.warn({ method, route, status: response.statusCode }, 'nessus call refused');
      }
      return { status: response.statusCode, text };
    } catch (error) {
      const status = (error as { response?: { statusCode?: number } }).response?.statusCode ?? 0;
      this.emit(ctx, status, started);
      if (options.signal?.aborted) throw abortReason(options.signal);
      const mapped = transportError(ctx, error, options.redactor ?? this.redactor);
      this.log.warn({ method, route, status, code: mapped.code, retryable: mapped.retryable, err: mapped.message }, 'nessus call failed');
      throw mapped;
    }
  }

  private emit(ctx: CallContext, status: number, started: number): void {
    if (!this.onApiCall) return;
    try {
      this.onApiCall({ instanceId: this.instanceId, method: ctx.method, route: ctx.route, status, durationMs: performance.now() - started });
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'onApiCall hook threw');
    }
  }

  // ---- authentication ----

  private async authHeaders(signal: AbortSignal | undefined): Promise<Record<string, string>> {
    if (this.apiKeys) return { 'X-ApiKeys': `accessKey=${this.apiKeys.access}; secretKey=${this.apiKeys.secret};` };
    return { 'X-Cookie': `token=${await this.sessionToken(signal)}` };
  }

  private sessionToken(signal: AbortSignal | undefined): Promise<string> {
    if (this.token) return Promise.resolve(this.token);
    this.loginInFlight ??= this.createSession(signal).finally(() => {
      this.loginInFlight = null;
    });
    return this.loginInFlight;
  }

  private async createSession(signal: AbortSignal | undefined): Promise<string> {
    if (!this.login) throw new AppError('internal', 'session login without username/password');
    const token = readSessionToken(await this.call('POST', '/session', { json: this.login, auth: false, signal }));
    this.redactor.add(token);
    this.token = token;
    this.log.info({}, 'nessus session opened');
    return token;
  }

  /** Forgets the token a failed request used, unless a concurrent request already replaced it. */
  private dropToken(usedHeaders: Record<string, string>): void {
    if (this.token && usedHeaders['X-Cookie'] === `token=${this.token}`) this.token = null;
  }
}
