import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  /** Why the worker is not healthy; shown in the 503 body. */
  reason?: string;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

/**
 * `/health` and `/metrics` on WORKER_METRICS_PORT. Plain node:http: two routes do not justify a
 * framework in a process whose real work is BullMQ.
 */
export async function startMetricsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
  health: () => Promise<HealthReport>;
}): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { 'content-type': 'application/json', allow: 'GET' })
        .end(JSON.stringify({ error: { code: 'invalid_argument', message: 'only GET is supported' } }));
      return;
    }
    if (path === '/health') {
      options
        .health()
        .then((report) => {
          const body = report.ok ? { status: 'ok' } : { status: 'unavailable', reason: report.reason ?? 'unknown' };
          res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(body));
        })
        .catch(() => res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'unavailable', reason: 'health check failed' })));
      return;
    }
    if (path === '/metrics') {
      options.registry
        .metrics()
        .then((text) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(text))
        .catch(() => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n'));
      return;
    }
    res
      .writeHead(404, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: { code: 'not_found', message: 'routes: GET /health, GET /metrics' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
