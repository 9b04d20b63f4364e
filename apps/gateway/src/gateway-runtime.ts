import {
  AuditLog,
  TaskStore,
  loadAccessConfig,
  checkRedisTopology,
  createHousekeepingQueue,
  createLogger,
  createRedisConnection,
  loadAuthTokens,
  loadCredentialsKey,
  loadRuntimeConfig,
  loadScannersConfig,
  requireRedisUrl,
  waitForRedis,
  type Logger,
  type RuntimeConfig,
} from '@nessus-mcp/core';
import { ResultStoreCache, openTaskFiles } from '@nessus-mcp/results';
import { CursorCodec } from '@nessus-mcp/schema';
import { ScannerRegistry, type ScannerRegistryOptions } from '@nessus-mcp/scanners';
import type { DestinationStream } from 'pino';
import { AccessControl } from './auth/access-control.js';
import { createGatewayServices, type GatewayServices } from './services/gateway-services.js';
import { SettledTasks } from './services/settled-tasks.js';
import { ScanQueues, scannerSetup, type ScannerSetup } from './services/service-context.js';

export interface GatewayRuntimeOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Where logs go: stdout for the HTTP gateway, stderr for the stdio server, a stream in tests. */
  logDestination?: DestinationStream | 'stdout' | 'stderr';
  /** Prefix of this system's Redis keys (tests isolate themselves with it). */
  redisKeyPrefix?: string;
  /** Scanner construction options (tests inject mock scanners). */
  scannerOptions?: Omit<ScannerRegistryOptions, 'redis' | 'keyPrefix' | 'logger'>;
}

/** Everything the gateway process owns, built from the environment; `close` releases it all. */
export interface GatewayRuntime {
  config: RuntimeConfig;
  logger: Logger;
  services: GatewayServices;
  authTokens: string[];
  /** AUTH_TOKEN plus the access file (ACCESS_CONFIG) and its OAuth settings; reloaded on SIGHUP. */
  access: AccessControl;
  /** Re-reads the access file; a bad file is refused (throws) and the running one kept. */
  reloadAccess(): void;
  /** Re-reads scanners.yaml (SIGHUP); a bad file is refused and the running setup kept. */
  reloadScanners(): Promise<ScannerSetup>;
  /** Reloads on every SIGHUP, logging a refused file; `afterReload` runs after each success. */
  reloadOnSighup(afterReload?: () => void): void;
  close(): Promise<void>;
}

export async function createGatewayRuntime(options: GatewayRuntimeOptions = {}): Promise<GatewayRuntime> {
  const env = options.env ?? process.env;
  const config = loadRuntimeConfig(env, options.cwd);
  const redisUrl = requireRedisUrl(config, 'gateway');
  const logger = createLogger({ name: 'gateway', level: config.logLevel, destination: options.logDestination ?? 'stdout' });
  const authTokens = loadAuthTokens(env, config.dataDir);
  const credentialsKey = loadCredentialsKey(env, config.dataDir);
  const { queuePrefix } = config.redisNamespace;
  const prefix = options.redisKeyPrefix ?? config.redisNamespace.keyPrefix;
  const readAccess = () => loadAccessConfig(config.accessConfigPath, config.accessConfigExplicit, env);
  const access = new AccessControl(authTokens, readAccess());
  // A STORAGE_URL whose bucket cannot be used stops the gateway here, before it accepts a request.
  const taskFiles = await openTaskFiles(config);
  logger.info({ storage: taskFiles.description }, 'task files');

  const redis = createRedisConnection(redisUrl, 'producer');
  // BullMQ needs its own connection options; producers still fail fast rather than queue commands.
  const queueConnection = createRedisConnection(redisUrl, 'producer');
  const registryFor = (scannersConfig: ReturnType<typeof loadScannersConfig>): ScannerRegistry =>
    new ScannerRegistry(scannersConfig, { ...options.scannerOptions, redis, keyPrefix: prefix, logger: logger.child({ component: 'scanners' }) });

  let setup: ScannerSetup;
  let registry: ScannerRegistry;
  try {
    await Promise.all([waitForRedis(redis), waitForRedis(queueConnection)]);
    await checkRedisTopology(redis, redisUrl);
    const scannersConfig = loadScannersConfig(config.scannersConfigPath, env);
    registry = registryFor(scannersConfig);
    setup = scannerSetup(scannersConfig, registry);
  } catch (error) {
    redis.disconnect();
    queueConnection.disconnect();
    taskFiles.close();
    throw error;
  }

  const queueLogger = logger.child({ component: 'queues' });
  const queues = new ScanQueues(
    queueConnection,
    () => setup,
    createHousekeepingQueue(queueConnection, { logger: queueLogger, prefix: queuePrefix }),
    queueLogger,
    queuePrefix,
  );
  const tasks = new TaskStore(redis, prefix);
  const services = createGatewayServices({
    redis,
    tasks,
    settled: new SettledTasks(tasks),
    queues,
    setup: () => setup,
    // Cursors are signed with a key derived from the credentials key: every gateway sharing the
    // data directory accepts the others' cursors, and they stay valid across restarts.
    results: new ResultStoreCache({ maxStores: 16, cursors: new CursorCodec(credentialsKey) }),
    audit: new AuditLog(redis, prefix, () => setup.config.retention.audit_days),
    credentialsKey,
    files: taskFiles.files,
    dataDir: config.dataDir,
    logger,
    liveProgressTimeoutMs: 1500,
  });

  const runtime: GatewayRuntime = {
    config,
    logger,
    services,
    authTokens,
    access,
    reloadAccess() {
      const next = readAccess();
      access.replace(next);
      logger.info({ clients: next.tokens.map((t) => t.name), oauth: next.oauth !== null, source: next.source || null }, 'access configuration reloaded');
    },
    async reloadScanners() {
      const scannersConfig = loadScannersConfig(config.scannersConfigPath, env);
      const next = registryFor(scannersConfig);
      const nextSetup = scannerSetup(scannersConfig, next);
      const previous = registry;
      registry = next;
      setup = nextSetup;
      await previous.close();
      logger.info({ pools: scannersConfig.pools.map((p) => p.name), source: scannersConfig.source }, 'scanner configuration reloaded');
      return nextSetup;
    },
    reloadOnSighup(afterReload) {
      process.on('SIGHUP', () => {
        try {
          runtime.reloadAccess();
        } catch (error) {
          logger.error({ err: error }, 'access configuration reload refused; keeping the running one');
        }
        runtime.reloadScanners().then(
          () => afterReload?.(),
          (error: unknown) => logger.error({ err: error }, 'scanner configuration reload refused; keeping the running one'),
        );
      });
    },
    async close() {
      await queues.close();
      await registry.close();
      await Promise.all([redis.quit().catch(() => undefined), queueConnection.quit().catch(() => undefined)]);
      taskFiles.close();
    },
  };
  return runtime;
}
