import { LOOPBACK_HOSTS } from './gateway.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '']);

const list = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * Host names /mcp answers to: loopback, the listen address when it is a specific one, and
 * GATEWAY_ALLOWED_HOSTS (the names clients use behind a proxy or on a LAN). A wildcard listen
 * address adds nothing: "any host" is exactly what DNS rebinding exploits.
 */
export function allowedHostsFrom(env: NodeJS.ProcessEnv, listenHost: string): string[] {
  const hosts = new Set([...LOOPBACK_HOSTS, ...list(env.GATEWAY_ALLOWED_HOSTS).map((host) => host.toLowerCase())]);
  if (!WILDCARDS.has(listenHost)) hosts.add(listenHost.toLowerCase());
  return [...hosts];
}

/** Browser origins allowed on /mcp beyond those of the allowed hosts: GATEWAY_ALLOWED_ORIGINS. */
export function allowedOriginsFrom(env: NodeJS.ProcessEnv): string[] {
  return list(env.GATEWAY_ALLOWED_ORIGINS);
}
