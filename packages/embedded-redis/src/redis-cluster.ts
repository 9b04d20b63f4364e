import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { findFreePort, findRedisServerBinary, startRedisServer, type RunningRedis } from './redis-server.js';

const run = promisify(execFile);

export interface RedisClusterOptions {
  /** Number of primaries (no replicas); Redis Cluster needs at least 3. Default 3. */
  masters?: number;
  host?: string;
  /** `requirepass` (and `masterauth`) of every node, to test credentials in the URL. */
  password?: string;
  startTimeoutMs?: number;
}

export interface RunningRedisCluster {
  /** `redis+cluster://[:password@]host:port,host:port,...` listing every primary. */
  readonly url: string;
  readonly nodes: readonly RunningRedis[];
  /** Stops every node and removes their cluster state files. */
  stop(): Promise<void>;
}

function findRedisCli(serverBinary: string): string {
  const beside = join(dirname(serverBinary), 'redis-cli');
  if (existsSync(beside)) return beside;
  if (existsSync('/usr/bin/redis-cli')) return '/usr/bin/redis-cli';
  throw new Error('redis-cli was not found next to redis-server; it ships in the same Debian package (apt-get install -y redis-server)');
}

/**
 * A real Redis Cluster for tests: `masters` redis-servers with cluster mode on, each on a free
 * port with its bus on another free port (the default bus port, port + 10000, can fall outside
 * the port range for an ephemeral port), joined by `redis-cli --cluster create` and returned once
 * every node reports `cluster_state:ok`. No persistence; the node tables live in a temporary
 * directory removed by `stop`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RunningRedisCluster> {
  const masters = options.masters ?? 3;
  if (masters < 3) throw new Error('a Redis Cluster needs at least 3 primaries');
  const host = options.host ?? '127.0.0.1';
  const binary = findRedisServerBinary();
  if (!binary) throw new Error('redis-server was not found. Install it with `apt-get install -y redis-server`.');
  const cli = findRedisCli(binary);
  const dir = mkdtempSync(join(tmpdir(), 'nmcp-redis-cluster-'));
  const auth = options.password === undefined ? [] : ['-a', options.password, '--no-auth-warning'];
  const nodes: RunningRedis[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((node) => node.stop(2000)));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const started = await Promise.all(
      Array.from({ length: masters }, async (_, i) => {
        const busPort = await findFreePort(host);
        const extraArgs = [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(dir, `nodes-${i}.conf`),
          '--cluster-port',
          String(busPort),
          '--cluster-node-timeout',
          '5000',
        ];
        if (options.password !== undefined) extraArgs.push('--requirepass', options.password, '--masterauth', options.password);
        return startRedisServer({ host, binary, extraArgs, ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }) });
      }),
    );
    nodes.push(...started);
    const addresses = nodes.map((node) => `${host}:${node.port}`);
    await run(cli, [...auth, '--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'], { timeout: options.startTimeoutMs ?? 30000 });
    // `--cluster create` returns once the slots are assigned; the nodes agree a moment later.
    const deadline = Date.now() + (options.startTimeoutMs ?? 30000);
    for (const node of nodes) {
      for (;;) {
        const { stdout } = await run(cli, [...auth, '-h', host, '-p', String(node.port), 'cluster', 'info']);
        if (stdout.includes('cluster_state:ok')) break;
        if (Date.now() > deadline) throw new Error(`cluster node ${host}:${node.port} did not reach cluster_state:ok`);
        await sleep(50);
      }
    }
    const userinfo = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
    return { url: `redis+cluster://${userinfo}${addresses.join(',')}`, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
