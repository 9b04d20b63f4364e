export { startRedisServer, findRedisServerBinary, findFreePort, pingRedis, stopStaleRedis } from './redis-server.js';
export type { RedisServerOptions, RunningRedis } from './redis-server.js';
export { startRedisCluster } from './redis-cluster.js';
export type { RedisClusterOptions, RunningRedisCluster } from './redis-cluster.js';
