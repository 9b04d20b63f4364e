import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino censors wherever a secret could travel: tool arguments, REST bodies, scanner config,
 * request headers. Wildcards in pino match one level, hence the explicit depths.
 */
export const REDACT_PATHS = [
  'password',
  'ssh_password',
  'ssh_private_key',
  'ssh_private_key_passphrase',
  'escalation_password',
  'access_key',
  'secret_key',
  'token',
  'credentials',
  '*.password',
  '*.ssh_password',
  '*.ssh_private_key',
  '*.ssh_private_key_passphrase',
  '*.escalation_password',
  '*.access_key',
  '*.secret_key',
  '*.token',
  '*.credentials',
  '*.privateKey',
  '*.privateKeyPassphrase',
  '*.escalationPassword',
  '*.*.password',
  '*.*.ssh_password',
  '*.*.ssh_private_key',
  '*.*.ssh_private_key_passphrase',
  '*.*.escalation_password',
  '*.*.access_key',
  '*.*.secret_key',
  '*.*.credentials',
  'req.headers.authorization',
  'req.headers["x-apikeys"]',
  'req.headers["x-cookie"]',
  'req.headers.cookie',
  'headers.authorization',
  'headers["x-apikeys"]',
  'headers["x-cookie"]',
];

export interface LoggerSettings {
  name: string;
  level?: string;
  /** stdio MCP servers must log to stderr: stdout is the protocol channel. */
  destination?: DestinationStream | 'stdout' | 'stderr';
  base?: Record<string, unknown>;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? process.env.LOG_LEVEL ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid, ...settings.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  const destination = settings.destination ?? 'stdout';
  if (destination === 'stdout') return pino(options, pino.destination({ fd: 1, sync: false }));
  if (destination === 'stderr') return pino(options, pino.destination({ fd: 2, sync: false }));
  return pino(options, destination);
}
