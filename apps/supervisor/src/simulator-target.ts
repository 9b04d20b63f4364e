import type { ScannersConfig } from '@nessus-mcp/core';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * The bundled simulator is started only when an enabled instance points at it: a loopback URL on
 * NESSUS_SIM_PORT. A config aimed at a real Nessus gets no simulator.
 */
export function configUsesSimulator(config: ScannersConfig, simPort: number): boolean {
  return config.pools.some((pool) =>
    pool.instances.some((instance) => {
      if (!instance.enabled) return false;
      const url = new URL(instance.url);
      const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
      return LOOPBACK.has(url.hostname) && port === simPort;
    }),
  );
}
