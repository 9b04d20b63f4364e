import { parseArgs } from 'node:util';
import type { FaultPatch } from './faults.js';
import { validateFaultPatch } from './faults.js';
import type { LogLevel } from './logger.js';
import { isLogLevel } from './logger.js';
import type { SimulatorOptions } from './server.js';

export const CLI_USAGE = `Usage: nessus-sim [options]

Serves a Nessus-compatible REST API (plain HTTP) plus /_sim/stats, /_sim/runs, /_sim/faults, /_sim/reset.

  --port N                 listen port (env NESSUS_SIM_PORT, default 8834; 0 = any free port)
  --host ADDR              listen address (env NESSUS_SIM_HOST, default 127.0.0.1)
  --instances N            serve N independent scanners on ports PORT..PORT+N-1 (each on a free
                           port with --port 0); one "listening on URL" line each (default 1)
  --max-concurrent-scans N refuse launches while N runs are active, on each instance (default: no limit)
  --scan-seconds S         how long a launched scan runs (default 5)
  --scan-outcome O         completed | aborted
  --licence-412 M          clean | drop | empty | reset | off (refuse scan control with 412)
  --error-rate R           share 0-1 of API calls answered 500/503
  --latency-ms N           delay added to every API answer
  --session-ttl-s S        session idle lifetime in seconds (0 = expire at once; default 1800)
  --export-mode M          ok | stuck | error | error_500_then_404 | lost
  --download-mode M        ok | slow | truncated | expired | chunked
  --drift R                share 0-1 of findings that change between scans of a target (default 0.03; 0 = identical)
  --access-key K           API access key  (env NESSUS_SIM_ACCESS_KEY, default sim-access-key)
  --secret-key K           API secret key  (env NESSUS_SIM_SECRET_KEY, default sim-secret-key)
  --username U             login user      (env NESSUS_SIM_USERNAME, default admin)
  --password P             login password  (env NESSUS_SIM_PASSWORD, default sim-admin-password)
  --ssh-username U         SSH user the targets accept (env NESSUS_SIM_SSH_USERNAME, default scan)
  --ssh-password P         SSH password the targets accept (env NESSUS_SIM_SSH_PASSWORD, default scan-password)
  --ssh-port N             port the targets' SSH listens on; scans must send it as settings.ssh_port (env NESSUS_SIM_SSH_PORT, default 22)
  --tls                    serve HTTPS with a self-signed certificate made at start (needs openssl);
                           its path is logged, for clients' CA file
  --tls-cert FILE --tls-key FILE   serve HTTPS with this PEM certificate and key
  --log-level L            silent | error | info | debug (env LOG_LEVEL, default info; debug logs each request)
  --help                   print this text

Secrets given as flags are visible in the process list; prefer the environment variables.
`;

export class CliError extends Error {
  override readonly name = 'CliError';
}

function numberFlag(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw new CliError(`--${name} needs a number, got '${text}'`);
  return value;
}

/** Turns argv and the environment into simulator options; throws CliError with a usable message. */
export function parseCliOptions(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { help: true } | { help: false; options: SimulatorOptions; instances?: number } {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        instances: { type: 'string' },
        'max-concurrent-scans': { type: 'string' },
        'scan-seconds': { type: 'string' },
        'scan-outcome': { type: 'string' },
        'licence-412': { type: 'string' },
        'error-rate': { type: 'string' },
        'latency-ms': { type: 'string' },
        'session-ttl-s': { type: 'string' },
        'export-mode': { type: 'string' },
        'download-mode': { type: 'string' },
        drift: { type: 'string' },
        'access-key': { type: 'string' },
        'secret-key': { type: 'string' },
        username: { type: 'string' },
        password: { type: 'string' },
        'ssh-username': { type: 'string' },
        'ssh-password': { type: 'string' },
        'ssh-port': { type: 'string' },
        tls: { type: 'boolean' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  const flags = parsed.values;
  if (flags.help === true) return { help: true };

  const port = numberFlag('port', flags.port ?? env['NESSUS_SIM_PORT']) ?? 8834;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0-65535, got ${port}`);

  const instances = numberFlag('instances', flags.instances);
  if (instances !== undefined && (!Number.isInteger(instances) || instances < 1 || instances > 1000))
    throw new CliError(`--instances must be 1-1000, got ${instances}`);
  if (instances !== undefined && port !== 0 && port + instances - 1 > 65535) throw new CliError(`--port ${port} leaves no room for ${instances} instances`);

  const raw: Record<string, unknown> = {};
  const licence = flags['licence-412'];
  if (licence !== undefined) raw['licence_412'] = licence === 'off' || licence === 'none' ? null : licence;
  if (flags['scan-outcome'] !== undefined) raw['scan_outcome'] = flags['scan-outcome'];
  if (flags['export-mode'] !== undefined) raw['export_mode'] = flags['export-mode'];
  if (flags['download-mode'] !== undefined) raw['download_mode'] = flags['download-mode'];
  const numeric: [flag: string, key: string][] = [
    ['scan-seconds', 'scan_seconds'],
    ['error-rate', 'error_rate'],
    ['latency-ms', 'latency_ms'],
    ['session-ttl-s', 'session_ttl_s'],
    ['drift', 'drift'],
    ['max-concurrent-scans', 'max_concurrent_scans'],
  ];
  for (const [flag, key] of numeric) {
    const value = numberFlag(flag, flags[flag as keyof typeof flags] as string | undefined);
    if (value !== undefined) raw[key] = value;
  }
  let faults: FaultPatch;
  try {
    faults = validateFaultPatch(raw);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }

  const logLevel = flags['log-level'] ?? env['LOG_LEVEL'] ?? 'info';
  // pino's extra levels map onto the nearest one this logger has.
  const level: LogLevel = isLogLevel(logLevel)
    ? logLevel
    : logLevel === 'trace'
      ? 'debug'
      : logLevel === 'warn' || logLevel === 'fatal'
        ? 'error'
        : (() => {
            throw new CliError(`--log-level must be silent, error, info or debug, got '${logLevel}'`);
          })();

  const certFile = flags['tls-cert'];
  const keyFile = flags['tls-key'];
  if ((certFile === undefined) !== (keyFile === undefined)) throw new CliError('--tls-cert and --tls-key go together');

  const pick = (flag: string | undefined, envName: string): string | undefined => flag ?? env[envName];
  const credentials = {
    accessKey: pick(flags['access-key'], 'NESSUS_SIM_ACCESS_KEY'),
    secretKey: pick(flags['secret-key'], 'NESSUS_SIM_SECRET_KEY'),
    username: pick(flags.username, 'NESSUS_SIM_USERNAME'),
    password: pick(flags.password, 'NESSUS_SIM_PASSWORD'),
  };
  const sshPort = numberFlag('ssh-port', pick(flags['ssh-port'], 'NESSUS_SIM_SSH_PORT'));
  if (sshPort !== undefined && (!Number.isInteger(sshPort) || sshPort < 1 || sshPort > 65535)) throw new CliError(`--ssh-port must be 1-65535, got ${sshPort}`);
  const validSsh = {
    username: pick(flags['ssh-username'], 'NESSUS_SIM_SSH_USERNAME'),
    password: pick(flags['ssh-password'], 'NESSUS_SIM_SSH_PASSWORD'),
    port: sshPort,
  };
  const defined = <T extends object>(value: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> =>
    Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<{
      [K in keyof T]: Exclude<T[K], undefined>;
    }>;

  const options: SimulatorOptions = {
    port,
    host: flags.host ?? env['NESSUS_SIM_HOST'] ?? '127.0.0.1',
    faults,
    logLevel: level,
    credentials: defined(credentials),
    validSsh: defined(validSsh),
  };
  if (certFile !== undefined && keyFile !== undefined) options.tls = { certFile, keyFile };
  else if (flags.tls === true) options.tls = true;
  return instances === undefined ? { help: false, options } : { help: false, options, instances };
}
