import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { type Got } from 'got';
import { AppError } from '@nessus-mcp/core/errors';
import type { ScannerInstanceConfig } from './config.js';
import { type CallContext, httpError, transportError } from './nessus-errors.js';
import { readSessionToken } from './nessus-responses.js';
import { SecretRedactor } from './redaction.js';
import type { ApiCallHook, ScannerLogger } from './scanner.js';

export interface CallOptions {
  params?: Record<string, string>;
  json?: unknown;
  form?: FormData;
  query?: Record<string, string>;
  signal?: AbortSignal | undefined;
  /** Send the auth header. `GET /server/status` and `POST /session` do without. */
  auth?: boolean;
  redactor?: SecretRedactor;
}

export interface RawAnswer {
  status: number;
  text: string;
}

/** Nessus error bodies are a line of JSON; more than this is a proxy page we only excerpt. */
export const MAX_ERROR_BODY = 64 * 1024;

export function expandRoute(route: string, params: Record<string, string> = {}): string {
  return route.replace(/:([a-z_]+)/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new AppError('internal', `missing route parameter ${name} for ${route}`);
    return encodeURIComponent(value);
  });
}

export function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Waits `ms`, or throws the signal's reason as soon as it aborts. */
export async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) throw abortReason(signal);
    throw error;
  }
}

export interface NessusHttpOptions {
  instance: ScannerInstanceConfig;
  logger: ScannerLogger;
  onApiCall: ApiCallHook | undefined;
}

/**
 * The HTTP side of one Nessus server: a keep-alive connection pool, the auth header (API keys,
 * or a session token obtained and renewed here), JSON calls mapped to AppErrors, and the
 * per-call metrics hook.
 */
export class NessusHttp {
  readonly instanceId: string;
  readonly baseUrl: string;
  readonly timeoutMs: number;
  readonly redactor: SecretRedactor;
  readonly got: Got;
  private readonly log: ScannerLogger;
  private readonly onApiCall: ApiCallHook | undefined;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly apiKeys: { access: string; secret: string } | null;
  private readonly login: { username: string; password: string } | null;
  private token: string | null = null;
  private loginInFlight: Promise<string> | null = null;

  constructor(options: NessusHttpOptions) {
    const { instance } = options;
    this.instanceId = instance.instance_id;
    this.baseUrl = instance.url.replace(/\/+$/, '');
    this.timeoutMs = instance.timeout_ms;
    this.log = options.logger;
    this.onApiCall = options.onApiCall;
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
    this.got = got.extend({
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      agent: this.agents,
      https: { rejectUnauthorized: instance.tls_verify, ...(ca ? { certificateAuthority: ca } : {}) },
      headers: { accept: 'application/json', 'user-agent': 'nessus-mcp' },
    });
  }

  /** Session mode (username/password) rather than API keys. */
  get usesSession(): boolean {
    return this.login !== null;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /** A JSON call that throws an AppError for anything but 2xx; re-logs in once on a 401 in session mode. */
  async call(method: string, route: string, options: CallOptions = {}): Promise<unknown> {
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
  async raw(method: string, route: string, options: CallOptions = {}): Promise<RawAnswer> {
    const headers = (options.auth ?? true) ? await this.authHeaders(options.signal) : {};
    return this.send(method, route, headers, options);
  }

  private async send(method: string, route: string, headers: Record<string, string>, options: CallOptions): Promise<RawAnswer> {
    const ctx: CallContext = { instanceId: this.instanceId, method, route };
    const url = this.baseUrl + expandRoute(route, options.params);
    const started = performance.now();
    try {
      const response = await this.got(url, {
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

  emit(ctx: CallContext, status: number, started: number): void {
    if (!this.onApiCall) return;
    try {
      this.onApiCall({ instanceId: this.instanceId, method: ctx.method, route: ctx.route, status, durationMs: performance.now() - started });
    } catch (error) {
      this.log.warn({ err: error instanceof Error ? error.message : String(error) }, 'onApiCall hook threw');
    }
  }

  // ---- authentication ----

  async authHeaders(signal: AbortSignal | undefined): Promise<Record<string, string>> {
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
  dropToken(usedHeaders: Record<string, string>): void {
    if (this.token && usedHeaders['X-Cookie'] === `token=${this.token}`) this.token = null;
  }
}
