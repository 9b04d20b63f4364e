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
  /**
   * The call is safe to repeat (a read, or a write whose repeat changes nothing that matters):
   * a 5xx or a dropped connection is retried here, `http_retries` times with backoff.
   */
  retry?: boolean;
}

export interface RawAnswer {
  status: number;
  text: string;
}

/** Nessus error bodies are a line of JSON; more than this is a proxy page we only excerpt. */
export const MAX_ERROR_BODY = 64 * 1024;
export const DEFAULT_HTTP_RETRIES = 3;
export const DEFAULT_HTTP_RETRY_BACKOFF_MS = 500;

/**
 * A failure worth repeating the same request for: a 5xx, a timeout or a dropped connection
 * (the scanner package marks those retryable `scanner_error`s). An export's own
 * `500 {"status":"error"}` is an answer, not a hiccup: asking again only gets 404.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof AppError) || error.code !== 'scanner_error' || !error.retryable) return false;
  return error.details?.nessus_error !== 'error';
}

/** Account lockouts are worded differently across versions; every one says "lock". */
const LOCKOUT_TEXT = /\block(ed)?\b|locked out/i;

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
  private readonly retries: number;
  private readonly retryBackoffMs: number;
  private token: string | null = null;
  private loginInFlight: Promise<string> | null = null;

  constructor(options: NessusHttpOptions) {
    const { instance } = options;
    this.instanceId = instance.instance_id;
    this.baseUrl = instance.url.replace(/\/+$/, '');
    this.timeoutMs = instance.timeout_ms;
    this.log = options.logger;
    this.onApiCall = options.onApiCall;
    this.retries = instance.http_retries ?? DEFAULT_HTTP_RETRIES;
    this.retryBackoffMs = instance.http_retry_backoff_ms ?? DEFAULT_HTTP_RETRY_BACKOFF_MS;
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
        throw new AppError(
          'config_invalid',
          `scanner instance '${instance.instance_id}': cannot read ca_file ${instance.ca_file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        );
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

  /**
   * Runs `attempt` again after a transient failure, at most `http_retries` more times, each after
   * `http_retry_backoff_ms` × 2^n scaled by a random 50–100 % so clients that failed together
   * spread out. Only for requests safe to repeat.
   */
  async retrying<T>(route: string, signal: AbortSignal | undefined, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries += 1) {
      try {
        return await attempt();
      } catch (error) {
        if (tries >= this.retries || signal?.aborted || !isTransient(error)) throw error;
        const delayMs = Math.round(this.retryBackoffMs * 2 ** tries * (0.5 + Math.random() * 0.5));
        this.log.info(
          { route, retry: tries + 1, of: this.retries, delay_ms: delayMs, err: (error as AppError).message },
          'transient nessus failure; retrying the call',
        );
        await pause(delayMs, signal);
      }
    }
  }

  /** A JSON call that throws an AppError for anything but 2xx; re-logs in once on a 401 in session mode. */
  async call(method: string, route: string, options: CallOptions = {}): Promise<unknown> {
    if (options.retry) return this.retrying(route, options.signal, () => this.callOnce(method, route, options));
    return this.callOnce(method, route, options);
  }

  private async callOnce(method: string, route: string, options: CallOptions): Promise<unknown> {
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
    // A repeated login is harmless, and "Too many users are connected" (500) clears as others
    // log out: retried like a read.
    let body: unknown;
    try {
      body = await this.call('POST', '/session', { json: this.login, auth: false, signal, retry: true });
    } catch (error) {
      throw this.lockoutError(error);
    }
    const token = readSessionToken(body);
    this.redactor.add(token);
    this.token = token;
    this.log.info({}, 'nessus session opened');
    return token;
  }

  /** A refused login that says the account is locked: no retry can help until a person unlocks it. */
  private lockoutError(error: unknown): unknown {
    if (!(error instanceof AppError)) return error;
    const status = error.details?.status;
    const said = error.details?.nessus_error;
    if ((status === 401 || status === 403) && typeof said === 'string' && LOCKOUT_TEXT.test(said)) {
      return new AppError(
        'scanner_unavailable',
        `Nessus instance '${this.instanceId}' has locked the account '${this.login?.username ?? '?'}' ("${said}"), usually after repeated failed logins. ` +
          'A Nessus administrator must unlock it (Settings > Users, or nessuscli); check the password in scanners.yaml first so the lock does not recur.',
        { retryable: false, details: { ...error.details, locked: true } },
      );
    }
    return error;
  }

  /** Forgets the token a failed request used, unless a concurrent request already replaced it. */
  dropToken(usedHeaders: Record<string, string>): void {
    if (this.token && usedHeaders['X-Cookie'] === `token=${this.token}`) this.token = null;
  }
}
