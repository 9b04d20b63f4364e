import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ScanQueues } from '../services/service-context.js';
import { SeriesCounter, SeriesHistogram } from './series-metrics.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One registry per gateway instance (not prom-client's global one), so tests can run several.
 * The four per-request metrics are `Series*` (series-metrics.ts): the same exposition at a
 * fraction of prom-client's cost per observation; the rest is prom-client's.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new SeriesCounter('nessus_mcp_http_requests_total', 'HTTP requests by method, route and status', [
    'method',
    'route',
    'status',
  ] as const).registerIn(this.registry);
  readonly httpDuration = new SeriesHistogram(
    'nessus_mcp_http_request_duration_seconds',
    'HTTP request latency',
    ['method', 'route'] as const,
    LATENCY_BUCKETS,
  ).registerIn(this.registry);
  readonly toolCalls = new SeriesCounter('nessus_mcp_tool_calls_total', 'MCP tool calls by tool and outcome (ok or an error code)', [
    'tool',
    'outcome',
  ] as const).registerIn(this.registry);
  readonly toolDuration = new SeriesHistogram('nessus_mcp_tool_duration_seconds', 'MCP tool call latency', ['tool'] as const, LATENCY_BUCKETS).registerIn(
    this.registry,
  );

  constructor(queues: ScanQueues) {
    collectDefaultMetrics({ register: this.registry, prefix: 'nessus_mcp_gateway_' });
    new Gauge({
      name: 'nessus_mcp_queue_jobs',
      help: 'Scan jobs per pool and state, read from BullMQ at scrape time',
      labelNames: ['pool', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          queues.scanQueues().map(async ({ pool, queue }) => {
            const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
            for (const [state, value] of Object.entries(counts)) this.set({ pool, state }, value);
          }),
        );
      },
    });
  }

  observeTool(tool: string, outcome: string, seconds: number): void {
    this.toolCalls.inc({ tool, outcome });
    this.toolDuration.observe({ tool }, seconds);
  }
}
