import type { ClusterNode, RedisOptions, SentinelAddress } from 'ioredis';
import { AppError } from './errors.js';

/**
 * Where Redis is, from `REDIS_URL`:
 * - `redis://[[user]:password@]host:port[/db]` and `rediss://...` (TLS): one server;
 * - `redis+sentinel://[[user]:password@]host:port[,host:port...]/<master>[/db][?sentinel_username=..&sentinel_password=..]`:
 *   ask the Sentinels which server is the primary, and follow it when they fail over. The
 *   userinfo is the primary's credentials; the Sentinels' own come as query parameters.
 * - `redis+cluster://[[user]:password@]host:port[,host:port...]` and `rediss+cluster://...` (TLS):
 *   a Redis Cluster, found from any of the listed nodes. A cluster has no databases, so no path.
 *   BullMQ's and the task store's multi-key scripts only run there because every key they touch
 *   carries one hash tag (see `redisNamespace`).
 */
export type RedisTarget =
  | { kind: 'server'; url: string }
  | { kind: 'sentinel'; options: RedisOptions }
  | { kind: 'cluster'; nodes: ClusterNode[]; options: Pick<RedisOptions, 'username' | 'password' | 'tls'> };

const DEFAULT_SENTINEL_PORT = 26379;
const DEFAULT_CLUSTER_PORT = 6379;
const SENTINEL_PARAMS = new Set(['sentinel_username', 'sentinel_password']);
const FORMS = 'redis://host:port, rediss://host:port, redis+sentinel://host:port[,host:port...]/<master-name> or redis[s]+cluster://host:port[,host:port...]';

function invalid(url: string, problem: string): AppError {
  return new AppError('config_invalid', `REDIS_URL=${redactRedisUrl(url)}: ${problem}`, { details: { variable: 'REDIS_URL' } });
}

/** The URL with any password replaced by `***`, fit for logs and error messages. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^@/]*)@/i, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

function decode(url: string, text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalid(url, `the ${what} is not valid percent-encoding`);
  }
}

function hostAddress(url: string, text: string, defaultPort: number): SentinelAddress {
  const match = /^(?:\[([0-9a-f:.]+)\]|([^:[\]]+))(?::(\d+))?$/i.exec(text);
  if (!match) throw invalid(url, `'${text}' is not host:port`);
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (port < 1 || port > 65535) throw invalid(url, `port ${match[3]} of '${text}' is out of range`);
  return { host: match[1] ?? match[2]!, port };
}

function parseDb(url: string, text: string): number {
  if (!/^\d+$/.test(text)) throw invalid(url, `database '${text}' is not a number`);
  return Number(text);
}

function credentials(url: string, userinfo: string): Pick<RedisOptions, 'username' | 'password'> {
  const out: Pick<RedisOptions, 'username' | 'password'> = {};
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  if (user !== '') out.username = decode(url, user, 'user name');
  if (colon >= 0) out.password = decode(url, userinfo.slice(colon + 1), 'password');
  return out;
}

function parseCluster(url: string, tls: boolean): Extract<RedisTarget, { kind: 'cluster' }> {
  const rest = url.slice(url.indexOf('://') + 3);
  const [beforeQuery = '', query] = rest.split(/\?(.*)/s, 2);
  if (query !== undefined && query !== '') throw invalid(url, 'a cluster URL takes no parameters');
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? '' : beforeQuery.slice(slash + 1);
  // Redis Cluster serves database 0 only; '/0' is accepted because some tools always write it.
  if (path !== '' && path !== '0') throw invalid(url, `a Redis Cluster has no database '/${path}'; leave the path out`);
  const at = authority.lastIndexOf('@');
  const hosts = at < 0 ? authority : authority.slice(at + 1);
  if (hosts === '') throw invalid(url, 'no cluster node address; list one or more as host:port,host:port');
  const nodes = hosts.split(',').map((host) => hostAddress(url, host, DEFAULT_CLUSTER_PORT));
  const options: Extract<RedisTarget, { kind: 'cluster' }>['options'] = at < 0 ? {} : credentials(url, authority.slice(0, at));
  if (tls) options.tls = {};
  return { kind: 'cluster', nodes, options };
}

function parseSentinel(url: string): RedisOptions {
  const rest = url.slice(url.indexOf('://') + 3);
  const [beforeQuery = '', query = ''] = rest.split(/\?(.*)/s, 2);
  const slash = beforeQuery.indexOf('/');
  const authority = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const path = slash < 0 ? '' : beforeQuery.slice(slash + 1);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? null : authority.slice(0, at);
  const hosts = at < 0 ? authority : authority.slice(at + 1);
  if (hosts === '') throw invalid(url, 'no Sentinel address; list them as host:port,host:port');
  const options: RedisOptions = { sentinels: hosts.split(',').map((host) => hostAddress(url, host, DEFAULT_SENTINEL_PORT)) };

  const [name = '', db, ...extra] = path.split('/');
  if (name === '') throw invalid(url, 'no primary name; put it after the addresses, as in redis+sentinel://host:26379/mymaster');
  if (extra.length > 0) throw invalid(url, `unexpected path after the database: '/${extra.join('/')}'`);
  options.name = decode(url, name, 'primary name');
  if (db !== undefined && db !== '') options.db = parseDb(url, db);

  if (userinfo !== null) Object.assign(options, credentials(url, userinfo));
  for (const [key, value] of new URLSearchParams(query)) {
    if (!SENTINEL_PARAMS.has(key)) throw invalid(url, `unknown parameter '${key}'; known: ${[...SENTINEL_PARAMS].join(', ')}`);
    if (key === 'sentinel_username') options.sentinelUsername = value;
    else options.sentinelPassword = value;
  }
  return options;
}

/** Reads `REDIS_URL`; a form it cannot use is a `config_invalid` error naming the forms it can. */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  switch (scheme) {
    case 'redis':
    case 'rediss':
      try {
        new URL(url);
      } catch {
        throw invalid(url, `not a valid URL; expected ${FORMS}`);
      }
      return { kind: 'server', url };
    case 'redis+sentinel':
      return { kind: 'sentinel', options: parseSentinel(url) };
    case 'redis+cluster':
    case 'rediss+cluster':
      return parseCluster(url, scheme === 'rediss+cluster');
    case 'rediss+sentinel':
      throw invalid(url, `TLS to Sentinels is not supported; use redis+sentinel:// (or rediss:// to one server): ${FORMS}`);
    default:
      throw invalid(url, `unknown scheme; expected ${FORMS}`);
  }
}
