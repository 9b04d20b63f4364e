import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiCredentials } from './auth.js';
import { authenticate, DEFAULT_API_CREDENTIALS } from './auth.js';
import type { ControlSurface } from './control-routes.js';
import { handleControl } from './control-routes.js';
import { registerExportRoutes } from './export-routes.js';
import type { FaultPatch, Faults, Licence412Mode } from './faults.js';
import { applyFaultPatch, DEFAULT_FAULTS, validateFaultPatch } from './faults.js';
import { registerFolderRoutes } from './folder-routes.js';
import { loadHostTemplates } from './host-templates.js';
import { METHOD_NOT_ALLOWED, NessusHttpError, parseJsonBody, readBody, sendError, sendJson } from './http-replies.js';
import type { Logger, LogLevel } from './logger.js';
import { createLogger } from './logger.js';
import { Router } from './router.js';
import { registerScanRoutes } from './scan-routes.js';
import { registerServerInfoRoutes } from './server-info-routes.js';
import { SimulatorState } from './simulator-state.js';
import { generateSelfSignedCertificate } from './tls-certificate.js';
import type { ValidSshCredentials } from './ssh-credentials.js';
import { DEFAULT_VALID_SSH } from './ssh-credentials.js';
import type { SimStats } from './stats.js';
import type { RunsReport } from './simulator-state.js';

export interface SimulatorOptions {
  /** TCP port; 0 picks a free one. Default 8834, the Nessus port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** API keys and login accepted by the simulated Nessus. */
  credentials?: Partial<ApiCredentials>;
  /** The SSH user/password the simulated targets accept (any private key for that user). */
  validSsh?: Partial<ValidSshCredentials>;
  /** Initial faults; validated like `PUT /_sim/faults`. */
  faults?: FaultPatch;
  logLevel?: LogLevel;
  /** Directory of `.nessus` fixtures the export hosts are built from. */
  fixturesDir?: string;
  /**
   * Serve HTTPS instead of plain HTTP: `true` makes a self-signed certificate at start (needs
   * the `openssl` command), or give PEM certificate and key paths.
   */
  tls?: true | { certFile: string; keyFile: string };
  /** Millisecond clock; tests inject one to move scans and sessions forward without waiting. */
  clock?: () => number;
  /** Uniform [0, 1) source for `error_rate` and ids; tests inject one for determinism. */
  random?: () => number;
  /** Where log lines go (default stderr). */
  logWriter?: (line: string) => void;
}

export interface RunningSimulator {
  /** Base URL, e.g. `http://127.0.0.1:8834`. */
  readonly url: string;
  readonly port: number;
  /** With TLS, the certificate file, usable as a client's CA file; undefined for plain HTTP. */
  readonly caFile: string | undefined;
  /** Current faults (a copy). */
  readonly faults: Readonly<Faults>;
  setFaults(patch: FaultPatch): void;
  stats(): SimStats;
  /** Same body as `GET /_sim/runs`: active and peak runs, refused launches, each run's start and end. */
  runs(): RunsReport;
  /** Forgets scans, sessions, exports and counters, and restores the start-up faults. */
  reset(): void;
  close(): Promise<void>;
}

// `{"error":"API is not available"}` is exactly 32 bytes (B.2 wire quirk).
const LICENCE_BODY = JSON.stringify({ error: 'API is not available' });

/** Answers a licence-gated call the four ways real servers were seen to (B.2). */
function refuseLicence(res: ServerResponse, mode: Licence412Mode): void {
  if (mode === 'reset') {
    // Nessus 10.8.3 closed the connection on POST /scans before any status line (pyTenable#840).
    res.socket?.destroy();
    return;
  }
  if (mode === 'drop') {
    // Headers promise 32 bytes, then the connection dies before any of them.
    const socket: Socket = res.socket as Socket;
    const head =
      'HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(LICENCE_BODY)}\r\nConnection: close\r\n\r\n`;
    res.detachSocket(socket);
    socket.end(head);
    return;
  }
  const body = mode === 'clean' ? LICENCE_BODY : '';
  res.writeHead(412, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}

/**
 * A server starting or updating plugins answers `/server/status` 503 `{"status":"loading"}` with
 * its progress (pyTenable's server tests, Tenable's restfly scripts). What the rest of the API
 * answers meanwhile is not documented: a 503 with an `error` body is this simulator's guess.
 */
function refuseWhileLoading(res: ServerResponse, path: string, progress: number): void {
  if (path.replace(/\/+$/, '') === '/server/status') {
    sendJson(res, 503, { code: 503, status: 'loading', progress, detailed_status: { login_status: 'block', feed_status: { progress, status: 'loading' } } });
    return;
  }
  sendError(res, 503, 'Nessus is loading; try again when /server/status says ready');
}

function errorStatusFor(random: () => number): { status: number; message: string } {
  return random() < 0.5 ? { status: 500, message: 'Internal Server Error' } : { status: 503, message: 'Service temporarily unavailable' };
}

async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, router: Router, state: SimulatorState): Promise<void> {
  const rawBody = await readBody(req);
  const faults = state.faults;
  if (faults.latency_ms > 0) await sleep(faults.latency_ms);
  if (faults.server_loading !== null) {
    refuseWhileLoading(res, url.pathname, faults.server_loading);
    return;
  }
  if (faults.error_rate > 0 && state.random() < faults.error_rate) {
    const { status, message } = errorStatusFor(state.random);
    sendError(res, status, message);
    return;
  }
  const match = router.match(req.method ?? 'GET', url.pathname);
  if (match.kind === 'none') throw new NessusHttpError(404, 'The requested URL was not found');
  if (match.kind === 'wrong_method') {
    res.setHeader('Allow', match.allowed.join(', '));
    throw new NessusHttpError(405, METHOD_NOT_ALLOWED);
  }
  const { route, params } = match;
  let username: string | undefined;
  if (route.auth) {
    const verdict = authenticate(req.headers, state.credentials, state.sessions);
    if (!verdict.ok) throw new NessusHttpError(401, verdict.message);
    username = verdict.username;
  }
  if (route.licenceGated && faults.licence_412 !== null) {
    refuseLicence(res, faults.licence_412);
    return;
  }
  await route.handler({
    req,
    res,
    params,
    query: url.searchParams,
    body: route.multipart ? undefined : parseJsonBody(rawBody),
    rawBody,
    username,
  });
}

function buildRouter(state: SimulatorState): Router {
  const router = new Router();
  // Fixed paths such as /scans/timezones go before /scans/:id.
  registerServerInfoRoutes(router, state);
  registerFolderRoutes(router, state);
  registerScanRoutes(router, state);
  registerExportRoutes(router, state);
  return router;
}

function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const initialFaults = applyFaultPatch(DEFAULT_FAULTS, validateFaultPatch(options.faults ?? {}));
  let faults: Faults = initialFaults;
  const logger: Logger = createLogger(options.logLevel ?? 'info', options.logWriter);
  const state = new SimulatorState(
    options.clock ?? Date.now,
    options.random ?? Math.random,
    { ...DEFAULT_API_CREDENTIALS, ...options.credentials },
    { ...DEFAULT_VALID_SSH, ...options.validSsh },
    loadHostTemplates(options.fixturesDir),
    () => faults,
  );
  const router = buildRouter(state);
  const control: ControlSurface = {
    stats: () => state.stats.snapshot(),
    runs: () => state.runsReport(),
    faults: () => ({ ...faults }),
    setFaults: (patch) => {
      faults = applyFaultPatch(faults, validateFaultPatch(patch));
      logger.info(`faults now ${JSON.stringify(faults)}`);
    },
    reset: () => {
      faults = initialFaults;
      state.reset();
    },
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://simulator.invalid');
    res.on('finish', () => logger.debug(`${req.method} ${url.pathname} ${res.statusCode} ${Date.now() - started}ms`));
    const work = url.pathname.startsWith('/_sim/') ? handleControl(req, res, url.pathname, control) : handleApi(req, res, url, router, state);
    work.catch((error: unknown) => {
      if (res.headersSent || res.destroyed || !res.socket) {
        res.destroy();
        return;
      }
      if (error instanceof NessusHttpError) {
        sendError(res, error.status, error.message);
        return;
      }
      logger.error(`${req.method} ${url.pathname} failed: ${error instanceof Error ? error.stack : String(error)}`);
      sendError(res, 500, 'Internal Server Error');
    });
  };

  const host = options.host ?? '127.0.0.1';
  const generated = options.tls === true ? generateSelfSignedCertificate(host) : undefined;
  const tlsFiles = generated ?? (options.tls === true ? undefined : options.tls);
  const server: Server = tlsFiles
    ? createHttpsServer({ cert: readFileSync(tlsFiles.certFile), key: readFileSync(tlsFiles.keyFile) }, onRequest)
    : createHttpServer(onRequest);
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  let address: AddressInfo;
  try {
    address = await listen(server, options.port ?? 8834, host);
  } catch (error) {
    generated?.dispose();
    throw error;
  }
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `${tlsFiles ? 'https' : 'http'}://${urlHost}:${address.port}`;
  logger.info(`listening on ${url}${tlsFiles ? ` (certificate ${tlsFiles.certFile})` : ''}`);

  return {
    url,
    port: address.port,
    caFile: tlsFiles?.certFile,
    get faults() {
      return control.faults();
    },
    setFaults: control.setFaults,
    stats: control.stats,
    runs: control.runs,
    reset: control.reset,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => {
          generated?.dispose();
          if (error) reject(error);
          else resolve();
        });
        // Keep-alive and streaming connections would hold close() open; end them now.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

/**
 * `count` independent simulators in this process, one per port (consecutive from `port`, or each
 * on a free port when it is 0): a fleet of scanner instances for load tests, each with its own
 * scans, sessions, faults and `max_concurrent_scans`. Either all start or none stays open.
 */
export async function startSimulators(count: number, options: SimulatorOptions = {}): Promise<RunningSimulator[]> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be an integer >= 1, got ${count}`);
  const basePort = options.port ?? 8834;
  const started: RunningSimulator[] = [];
  try {
    for (let index = 0; index < count; index += 1) {
      started.push(await startSimulator({ ...options, port: basePort === 0 ? 0 : basePort + index }));
    }
  } catch (error) {
    await Promise.allSettled(started.map((sim) => sim.close()));
    throw error;
  }
  return started;
}
