import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { AppError } from '../errors.js';
import { redisNamespace, type RedisNamespace } from '../redis-keys.js';
import { parseRedisUrl } from '../redis-url.js';
import { parseStorageUrl, type StorageLocation } from './storage-url.js';

/** Everything the processes read from the environment (README, "Environment variables"). */
export interface RuntimeConfig {
  gatewayHost: string;
  gatewayPort: number;
  workerMetricsPort: number;
  simPort: number;
  /** Unset means "embedded Redis" for `npm start`; the single-process commands require it. */
  redisUrl: string | undefined;
  /** BullMQ's and this system's key prefixes (REDIS_PREFIX, hash-tagged on a cluster). */
  redisNamespace: RedisNamespace;
  dataDir: string;
  /** Unset means task files under `DATA_DIR`; set means object storage (`STORAGE_URL`). */
  storage: StorageLocation | undefined;
  /** With object storage: how many bytes of result stores a gateway keeps under `DATA_DIR/cache`. */
  storageCacheBytes: number;
  scannersConfigPath: string;
  /** ACCESS_CONFIG, else config/access.yaml (used only if it exists). */
  accessConfigPath: string;
  /** Whether ACCESS_CONFIG named the file: then it must exist. */
  accessConfigExplicit: boolean;
  logLevel: string;
  mcpUrl: string;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new AppError('config_invalid', `${name}=${raw} is not a TCP port (0-65535)`);
  }
  return value;
}

function megabytes(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback * 1024 * 1024;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new AppError('config_invalid', `${name}=${raw} is not a whole number of megabytes (1 or more)`);
  return value * 1024 * 1024;
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): RuntimeConfig {
  const absolute = (path: string): string => (isAbsolute(path) ? path : resolve(cwd, path));
  const gatewayHost = env.GATEWAY_HOST || '127.0.0.1';
  const gatewayPort = port(env, 'GATEWAY_PORT', 8835);
  const level = env.LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(level)) {
    throw new AppError('config_invalid', `LOG_LEVEL=${level} is not one of fatal, error, warn, info, debug, trace, silent`);
  }
  // A REDIS_URL no process can use fails here, at start, rather than at the first connection.
  const cluster = env.REDIS_URL ? parseRedisUrl(env.REDIS_URL).kind === 'cluster' : false;
  const namespace = redisNamespace(cluster, env.REDIS_PREFIX);
  if ('problem' in namespace) throw new AppError('config_invalid', namespace.problem, { details: { variable: 'REDIS_PREFIX' } });
  const storage = env.STORAGE_URL ? parseStorageUrl(env.STORAGE_URL) : undefined;
  return {
    gatewayHost,
    gatewayPort,
    workerMetricsPort: port(env, 'WORKER_METRICS_PORT', 9465),
    simPort: port(env, 'NESSUS_SIM_PORT', 8834),
    redisUrl: env.REDIS_URL || undefined,
    redisNamespace: namespace,
    dataDir: absolute(env.DATA_DIR || './.data'),
    storage,
    storageCacheBytes: megabytes(env, 'STORAGE_CACHE_MB', 2048),
    scannersConfigPath: absolute(env.SCANNERS_CONFIG || 'config/scanners.yaml'),
    accessConfigPath: absolute(env.ACCESS_CONFIG || 'config/access.yaml'),
    accessConfigExplicit: Boolean(env.ACCESS_CONFIG),
    logLevel: level,
    mcpUrl: env.NESSUS_MCP_URL || `http://127.0.0.1:${gatewayPort}/mcp`,
  };
}

export function requireRedisUrl(config: RuntimeConfig, processName: string): string {
  if (!config.redisUrl) {
    throw new AppError('config_invalid', `REDIS_URL is required to run the ${processName} on its own (npm start embeds Redis; single processes do not)`);
  }
  return config.redisUrl;
}

/**
 * Reads a generated secret from DATA_DIR, creating it on first use. Creation uses O_EXCL so two
 * processes starting together agree on one value; the file is readable by its owner only.
 */
export function ensureSecretFile(dataDir: string, name: string, generate: () => string): string {
  const path = join(dataDir, name);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  chmodSync(path, 0o600);
  const value = readFileSync(path, 'utf8').trim();
  if (!value) throw new AppError('config_invalid', `${path} is empty; delete it to have a new one generated`);
  return value;
}

/** Bearer tokens accepted by the gateway: AUTH_TOKEN (comma-separated for rotation) or the generated one. */
export function loadAuthTokens(env: NodeJS.ProcessEnv, dataDir: string): string[] {
  const fromEnv = (env.AUTH_TOKEN ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter(Boolean);
  if (fromEnv.length > 0) {
    const weak = fromEnv.find((token) => token.length < 16);
    if (weak !== undefined) throw new AppError('config_invalid', 'AUTH_TOKEN: every token must be at least 16 characters');
    return fromEnv;
  }
  return [ensureSecretFile(dataDir, 'auth-token', () => randomBytes(32).toString('base64url'))];
}

/** The 32-byte AES-256-GCM key for scan credentials: CREDENTIALS_KEY (base64) or the generated one. */
export function loadCredentialsKey(env: NodeJS.ProcessEnv, dataDir: string): Buffer {
  const encoded = env.CREDENTIALS_KEY || ensureSecretFile(dataDir, 'credentials.key', () => randomBytes(32).toString('base64'));
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) {
    throw new AppError(
      'config_invalid',
      `CREDENTIALS_KEY must be 32 bytes encoded in base64 (got ${key.length} bytes); generate one with: openssl rand -base64 32`,
    );
  }
  return key;
}
