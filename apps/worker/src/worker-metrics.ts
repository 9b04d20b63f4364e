import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type ScanOutcome = 'completed' | 'failed' | 'timeout' | 'cancelled';

/** Reads shared state (Redis) at scrape time: per-process counters would show each worker's share only, and 0 on a fresh process. */
export type ActiveScansReader = () => Promise<Array<{ pool: string; instance: string; active: number }>>;

export interface WorkerMetrics {
  registry: Registry;
  scansFinished: Counter<'pool' | 'outcome'>;
  scanDuration: Histogram<'pool' | 'outcome'>;
  stepDuration: Histogram<'step' | 'result'>;
  nessusApiCalls: Counter<'instance' | 'method' | 'route' | 'status'>;
  nessusApiLatency: Histogram<'instance' | 'route'>;
  ingestBytes: Counter;
  ingestFindings: Counter;
  ingestDuration: Histogram;
  housekeepingRuns: Counter<'job' | 'result'>;
  nessusScansHeld: Gauge<'instance'>;
}

export function createWorkerMetrics(readActiveScans: ActiveScansReader): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'nessus_mcp_worker_' });
  const metrics: WorkerMetrics = {
    registry,
    scansFinished: new Counter({
      name: 'nessus_mcp_worker_scans_total',
      help: 'Scans that reached a terminal status, by pool and outcome',
      labelNames: ['pool', 'outcome'],
      registers: [registry],
    }),
    scanDuration: new Histogram({
      name: 'nessus_mcp_worker_scan_duration_seconds',
      help: 'Wall-clock time from scan start (instance reserved) to its terminal status',
      labelNames: ['pool', 'outcome'],
      // Real scans run minutes to a day; the low buckets serve the simulator and demos.
      buckets: [5, 30, 60, 300, 900, 1800, 3600, 7200, 14400, 43200, 86400],
      registers: [registry],
    }),
    stepDuration: new Histogram({
      name: 'nessus_mcp_worker_step_duration_seconds',
      help: 'Latency of one pipeline step run (select, create, launch, poll, export, ingest, complete)',
      labelNames: ['step', 'result'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 60, 300, 1800],
      registers: [registry],
    }),
    nessusApiCalls: new Counter({
      name: 'nessus_mcp_worker_nessus_api_calls_total',
      help: 'Calls to scanner APIs by instance, templated route and HTTP status (0 = no response)',
      labelNames: ['instance', 'method', 'route', 'status'],
      registers: [registry],
    }),
    nessusApiLatency: new Histogram({
      name: 'nessus_mcp_worker_nessus_api_call_duration_seconds',
      help: 'Latency of scanner API calls',
      labelNames: ['instance', 'route'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    ingestBytes: new Counter({ name: 'nessus_mcp_worker_ingest_bytes_total', help: 'Bytes of .nessus exports ingested', registers: [registry] }),
    ingestFindings: new Counter({ name: 'nessus_mcp_worker_ingest_findings_total', help: 'Findings (ReportItems) ingested', registers: [registry] }),
    ingestDuration: new Histogram({
      name: 'nessus_mcp_worker_ingest_duration_seconds',
      help: 'Time to ingest one export into the result store',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    housekeepingRuns: new Counter({
      name: 'nessus_mcp_worker_housekeeping_runs_total',
      help: 'Housekeeping job runs by job name and result',
      labelNames: ['job', 'result'],
      registers: [registry],
    }),
    nessusScansHeld: new Gauge({
      name: 'nessus_mcp_worker_nessus_scans_held',
      help: 'Scans of ended tasks that housekeeping cannot delete because a person paused them in Nessus (set by each clean-nessus run)',
      labelNames: ['instance'],
      registers: [registry],
    }),
  };
  new Gauge({
    name: 'nessus_mcp_worker_active_scans',
    help: 'Scans holding a slot on each scanner instance (shared across all worker processes)',
    labelNames: ['pool', 'instance'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await readActiveScans()) this.set({ pool: row.pool, instance: row.instance }, row.active);
    },
  });
  return metrics;
}
