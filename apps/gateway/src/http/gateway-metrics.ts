import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ScanQueues } from '../services/service-context.js';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One registry per gateway instance (not prom-client's global one), so tests can run several. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'nessus_mcp_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'],
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'nessus_mcp_http_request_duration_seconds',
    help: 'HTTP request latency',
    labelNames: ['method', 'route'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly toolCalls = new Counter({
    name: 'nessus_mcp_tool_calls_total',
    help: 'MCP tool calls by tool and outcome (ok or an error code)',
    labelNames: ['tool', 'outcome'],
    registers: [this.registry],
  });
  readonly toolDuration = new Histogram({
    name: 'nessus_mcp_tool_duration_seconds',
    help: 'MCP tool call latency',
    labelNames: ['tool'],
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

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
