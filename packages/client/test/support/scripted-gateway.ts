import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

/*
 * An MCP server on a real HTTP listener that speaks the gateway's contract with scripted
 * behaviour, so the client's protocol handling (handshake, bearer header, isError results,
 * structuredContent, JSON-NL text) is exercised end to end without Redis or a scanner.
 * Stateless like the gateway: a new McpServer and transport for every request.
 *
 * Scripts are chosen by scan name: a task walks through its script one step per status read and
 * stays on the last step. `results` of every completed task are the same FINDINGS.
 */

export const TOKEN = 'test-token-5f2a';

type Step = { status: 'queued' | 'running' | 'completed' | 'failed' | 'timeout' | 'cancelled'; progress?: number };

const SCRIPTS: Record<string, Step[]> = {
  default: [{ status: 'queued' }, { status: 'running', progress: 10 }, { status: 'running', progress: 60 }, { status: 'completed' }],
  'ends-failed': [{ status: 'queued' }, { status: 'running', progress: 40 }, { status: 'failed' }],
  'ends-timeout': [{ status: 'running', progress: 5 }, { status: 'timeout' }],
  'ends-cancelled': [{ status: 'queued' }, { status: 'cancelled' }],
  'never-ends': [{ status: 'queued' }, { status: 'running', progress: 50 }],
  'already-done': [{ status: 'completed' }],
};

export interface Finding {
  finding_id: string;
  host: string;
  port: number;
  protocol: string;
  plugin_id: number;
  plugin_name: string;
  severity: number;
  cve: string[];
  cvss_score: number | null;
}

/** 57 findings over three hosts: severities cycle 0..4, so 11 are critical (4) and 22 high or above. */
export const FINDINGS: readonly Finding[] = Array.from({ length: 57 }, (_, i) => ({
  finding_id: `f${String(i).padStart(3, '0')}`,
  host: `10.0.0.${(i % 3) + 1}`,
  port: [22, 80, 443][i % 3] ?? 0,
  protocol: 'tcp',
  plugin_id: 10_000 + i,
  plugin_name: `Plugin number ${i}`,
  severity: i % 5,
  cve: i % 5 === 4 ? [`CVE-2024-${1000 + i}`] : [],
  cvss_score: i % 5 === 0 ? null : (i % 5) * 2 + 1.5,
}));

const BREAKDOWN = {
  critical: FINDINGS.filter((f) => f.severity === 4).length,
  high: FINDINGS.filter((f) => f.severity === 3).length,
  medium: FINDINGS.filter((f) => f.severity === 2).length,
  low: FINDINGS.filter((f) => f.severity === 1).length,
  info: FINDINGS.filter((f) => f.severity === 0).length,
};

export interface RecordedCall {
  tool: string;
  args: Record<string, unknown>;
}

interface Task {
  task_id: string;
  name: string;
  scan_type: 'untrusted' | 'trusted' | 'privileged';
  targets: string;
  script: Step[];
  reads: number;
  cancelled: boolean;
}

export interface ScriptedGateway {
  url: string;
  calls: RecordedCall[];
  /** Creates a task directly (as if another client submitted it). */
  addTask(name: string): string;
  /** Replaces `get_scan_results` with raw text, to feed the client malformed JSON-NL. */
  rawResults: string | null;
  close(): Promise<void>;
}

function json(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

function structured(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
}

function failure(code: string, message: string, details?: Record<string, unknown>): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: JSON.stringify({ error: { code, message, ...(details ? { details } : {}) } }) }] };
}

function matchesSeverity(severity: number, filter: unknown): boolean {
  if (typeof filter === 'number') return severity === filter;
  if (typeof filter === 'string') {
    const match = /^>=(\d)$/.exec(filter);
    if (match) return severity >= Number(match[1]);
    return severity === Number(filter);
  }
  return true;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

export async function startScriptedGateway(): Promise<ScriptedGateway> {
  const tasks = new Map<string, Task>();
  const calls: RecordedCall[] = [];
  let counter = 0;
  const state = { rawResults: null as string | null };

  function newTask(name: string, scanType: Task['scan_type'], targets: string): Task {
    counter += 1;
    const task: Task = {
      task_id: `ne_scan_20260101_120000_${counter.toString(16).padStart(8, '0')}`,
      name,
      scan_type: scanType,
      targets,
      script: SCRIPTS[name] ?? SCRIPTS.default ?? [],
      reads: 0,
      cancelled: false,
    };
    tasks.set(task.task_id, task);
    return task;
  }

  function currentStep(task: Task): Step {
    if (task.cancelled) return { status: 'cancelled' };
    return task.script[Math.min(task.reads, task.script.length - 1)] ?? { status: 'queued' };
  }

  function statusOf(task: Task): Record<string, unknown> {
    const step = currentStep(task);
    return {
      task_id: task.task_id,
      trace_id: `trace-${task.task_id}`,
      status: step.status,
      scan_type: task.scan_type,
      name: task.name,
      targets: task.targets.split(','),
      scanner_pool: 'nessus',
      scanner_instance: 'scan1',
      ...(step.progress === undefined ? {} : { progress: step.progress }),
      ...(step.status === 'completed'
        ? {
            results_summary: { hosts_scanned: 3, total_vulnerabilities: FINDINGS.length - BREAKDOWN.info, severity_breakdown: BREAKDOWN, file_size_kb: 42 },
            ...(task.scan_type === 'untrusted' ? {} : { authentication_status: 'success' }),
          }
        : // As the real gateway: null until the scan has completed.
          { results_summary: null, authentication_status: null }),
      ...(step.status === 'failed' ? { error: { code: 'scanner_error', message: 'the scanner aborted the scan' } } : {}),
    };
  }

  function submit(scanType: Task['scan_type']) {
    return async (args: Record<string, unknown>): Promise<CallToolResult> => {
      calls.push({ tool: `run_${scanType}_scan`, args });
      const task = newTask(String(args.name), scanType, String(args.targets));
      return json({
        task_id: task.task_id,
        trace_id: `trace-${task.task_id}`,
        status: 'queued',
        scanner_pool: 'nessus',
        scanner_instance: 'scan1',
        queue_position: tasks.size,
        estimated_wait_minutes: 1,
        message: 'Scan queued',
      });
    };
  }

  function results(args: Record<string, unknown>): CallToolResult {
    if (state.rawResults !== null) return { content: [{ type: 'text', text: state.rawResults }] };
    const task = tasks.get(String(args.task_id));
    if (!task) return failure('not_found', `task ${String(args.task_id)} not found`, { task_id: args.task_id });
    const step = currentStep(task);
    if (step.status !== 'completed') return failure('not_ready', `task ${task.task_id} is ${step.status}`);
    const filters = (args.filters ?? {}) as Record<string, unknown>;
    let rows = FINDINGS.filter((f) => matchesSeverity(f.severity, filters.severity));
    if (typeof filters.host === 'string') rows = rows.filter((f) => f.host === filters.host);
    if (args.sort === 'severity') rows = [...rows].sort((a, b) => b.severity - a.severity);
    const page = typeof args.page === 'number' ? args.page : 1;
    const pageSize = Math.min(100, Math.max(10, typeof args.page_size === 'number' ? args.page_size : 40));
    const totalPages = page === 0 ? (rows.length > 0 ? 1 : 0) : Math.ceil(rows.length / pageSize);
    const slice = page === 0 ? rows : rows.slice((page - 1) * pageSize, page * pageSize);
    const lines = [
      JSON.stringify({
        type: 'schema',
        profile: args.schema_profile ?? 'brief',
        fields: ['finding_id', 'host', 'port', 'severity'],
        filters_applied: filters,
        sort: args.sort ?? null,
        total_vulnerabilities: rows.length,
        total_pages: totalPages,
      }),
      JSON.stringify({
        type: 'scan_metadata',
        task_id: task.task_id,
        scan_name: task.name,
        scan_type: task.scan_type,
        targets: [task.targets],
        hosts_scanned: 3,
        total_vulnerabilities: FINDINGS.length - BREAKDOWN.info,
        severity_breakdown: BREAKDOWN,
      }),
      ...slice.map((f) => JSON.stringify({ type: 'vulnerability', ...f })),
    ];
    if (page !== 0) {
      const hasNext = page < totalPages;
      lines.push(
        JSON.stringify({ type: 'pagination', page, page_size: pageSize, total_pages: totalPages, has_next: hasNext, next_page: hasNext ? page + 1 : null }),
      );
    }
    return { content: [{ type: 'text', text: `${lines.join('\n')}\n` }] };
  }

  function buildServer(): McpServer {
    const server = new McpServer({ name: 'scripted-gateway', version: '0.0.0' });
    const base = {
      targets: z.string(),
      name: z.string(),
      description: z.string().optional(),
      schema_profile: z.enum(['minimal', 'summary', 'brief', 'full']).optional(),
      idempotency_key: z.string().optional(),
      scanner_pool: z.string().optional(),
      scanner_instance: z.string().optional(),
    };
    const ssh = {
      ssh_username: z.string(),
      ssh_password: z.string().optional(),
      ssh_private_key: z.string().optional(),
      ssh_private_key_passphrase: z.string().optional(),
      ssh_port: z.number().int().optional(),
    };
    server.registerTool('run_untrusted_scan', { inputSchema: base }, submit('untrusted'));
    server.registerTool('run_trusted_scan', { inputSchema: { ...base, ...ssh } }, submit('trusted'));
    server.registerTool(
      'run_privileged_scan',
      {
        inputSchema: {
          ...base,
          ...ssh,
          elevate_privileges_with: z.enum(['sudo', 'su', 'su+sudo', 'pbrun', 'dzdo']),
          escalation_account: z.string().optional(),
          escalation_password: z.string().optional(),
          su_login: z.string().optional(),
        },
      },
      submit('privileged'),
    );
    server.registerTool(
      'get_scan_status',
      { inputSchema: { task_id: z.string() }, outputSchema: { task_id: z.string(), status: z.string() } },
      async (args) => {
        calls.push({ tool: 'get_scan_status', args });
        const task = tasks.get(args.task_id);
        if (!task) return failure('not_found', `task ${args.task_id} not found`, { task_id: args.task_id });
        const status = statusOf(task);
        task.reads += 1;
        return structured(status);
      },
    );
    server.registerTool(
      'get_scan_results',
      {
        inputSchema: {
          task_id: z.string(),
          page: z.number().int().min(0).optional(),
          page_size: z.number().int().optional(),
          schema_profile: z.string().optional(),
          custom_fields: z.array(z.string()).optional(),
          filters: z.record(z.string(), z.unknown()).optional(),
          sort: z.string().optional(),
          cursor: z.string().optional(),
        },
      },
      async (args) => {
        calls.push({ tool: 'get_scan_results', args });
        return results(args);
      },
    );
    server.registerTool(
      'list_tasks',
      {
        inputSchema: { limit: z.number().int().optional(), status: z.string().optional(), scanner_pool: z.string().optional(), target: z.string().optional() },
      },
      async (args) => {
        calls.push({ tool: 'list_tasks', args });
        const all = [...tasks.values()].map(statusOf).filter((t) => args.status === undefined || t.status === args.status);
        const listed = all.slice(0, args.limit ?? 20);
        return structured({ tasks: listed, total: listed.length });
      },
    );
    server.registerTool('list_scanners', { inputSchema: { scanner_pool: z.string().optional() } }, async (args) => {
      calls.push({ tool: 'list_scanners', args });
      return structured({
        pools: [
          {
            name: 'nessus',
            is_default: true,
            capacity: 2,
            active_scans: 0,
            instances: [
              {
                instance_id: 'scan1',
                name: 'Simulator',
                enabled: true,
                max_concurrent_scans: 2,
                active_scans: 0,
                healthy: true,
                health_status: 'ok',
                health_message: null,
                version: '10.7.2',
                checked_at: null,
              },
            ],
          },
        ],
      });
    });
    server.registerTool('get_queue_status', { inputSchema: { scanner_pool: z.string().optional() } }, async (args) => {
      calls.push({ tool: 'get_queue_status', args });
      // The shape the real gateway answers (apps/gateway/src/schemas/tool-outputs.ts).
      const counts = { waiting: 0, active: 1, delayed: 0, completed: 2, failed: 0 };
      return structured({
        totals: counts,
        pools: [
          {
            scanner_pool: args.scanner_pool ?? 'nessus',
            queue: `scans-${args.scanner_pool ?? 'nessus'}`,
            counts,
            paused: false,
            oldest_waiting_age_seconds: null,
          },
        ],
        dead_letter_count: 0,
        oldest_waiting_age_seconds: null,
      });
    });
    server.registerTool(
      'summarize_findings',
      { inputSchema: { task_id: z.string(), group_by: z.string(), filters: z.record(z.string(), z.unknown()).optional(), top: z.number().int().optional() } },
      async (args) => {
        calls.push({ tool: 'summarize_findings', args });
        if (!tasks.has(args.task_id)) return failure('not_found', `task ${args.task_id} not found`, { task_id: args.task_id });
        const counts = new Map<string, { count: number; max: number }>();
        for (const finding of FINDINGS) {
          const key = args.group_by === 'host' ? finding.host : String(finding.plugin_id);
          const group = counts.get(key) ?? { count: 0, max: 0 };
          counts.set(key, { count: group.count + 1, max: Math.max(group.max, finding.severity) });
        }
        const groups = [...counts].map(([key, group]) => ({
          key,
          label: key,
          count: group.count,
          hosts: 1,
          max_severity: group.max,
          ...(group.max === 4 ? { max_risk: { cisa_known_exploited: '2021-11-03' } } : {}),
        }));
        return json({
          task_id: args.task_id,
          group_by: args.group_by,
          filters_applied: args.filters ?? {},
          total_findings: FINDINGS.length,
          total_groups: groups.length,
          groups: groups.slice(0, args.top ?? 20),
        });
      },
    );
    server.registerTool('get_finding', { inputSchema: { task_id: z.string(), finding_id: z.string() } }, async (args) => {
      calls.push({ tool: 'get_finding', args });
      const finding = FINDINGS.find((f) => f.finding_id === args.finding_id);
      if (!finding) return failure('not_found', `task ${args.task_id} has no finding ${args.finding_id}`);
      return json({
        task_id: args.task_id,
        finding: { ...finding, description: 'A long description.', plugin_output: 'Output line' },
        plugin_output_truncated: null,
      });
    });
    server.registerTool('cancel_scan', { inputSchema: { task_id: z.string() } }, async (args) => {
      calls.push({ tool: 'cancel_scan', args });
      const task = tasks.get(args.task_id);
      if (!task) return failure('not_found', `task ${args.task_id} not found`, { task_id: args.task_id });
      const step = currentStep(task);
      if (step.status === 'completed' || step.status === 'failed' || step.status === 'timeout') {
        return failure('conflict', `task ${task.task_id} already ended (${step.status})`);
      }
      task.cancelled = true;
      return json({ task_id: task.task_id, status: 'cancelled', message: 'Scan cancelled' });
    });
    return server;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'missing or invalid bearer token' } }));
      return;
    }
    const report = /^\/api\/v1\/tasks\/([^/]+)\/report\.html$/.exec(req.url ?? '');
    if (report && req.method === 'GET') {
      const known = tasks.has(decodeURIComponent(report[1] ?? ''));
      res.writeHead(known ? 200 : 404, { 'content-type': known ? 'text/html; charset=utf-8' : 'application/json' });
      res.end(
        known
          ? '<!DOCTYPE html><html><body><svg id="severity-chart"></svg>report</body></html>'
          : JSON.stringify({ error: { code: 'not_found', message: 'no task with id' } }),
      );
      return;
    }
    const csv = /^\/api\/v1\/tasks\/([^/?]+)\/results\.csv(?:\?(.*))?$/.exec(req.url ?? '');
    if (csv) {
      // The REST download of the gateway, scripted: the query is recorded and the CSV streamed in two chunks.
      const args: Record<string, unknown> = { task_id: decodeURIComponent(csv[1] ?? ''), ...Object.fromEntries(new URLSearchParams(csv[2] ?? '')) };
      calls.push({ tool: 'GET results.csv', args });
      if (!tasks.has(String(args.task_id))) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'not_found', message: `no task with id '${String(args.task_id)}'` } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
      res.write('finding_id,host,plugin_name\r\n');
      res.end(FINDINGS.map((f) => `${f.finding_id},${f.host},${f.plugin_name}\r\n`).join(''));
      return;
    }
    if (req.url !== '/mcp') {
      res.writeHead(404).end();
      return;
    }
    if (req.method !== 'POST') {
      // Stateless: no server-initiated stream, as the gateway answers.
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    const body = await readBody(req);
    const server = buildServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  const gateway: ScriptedGateway = {
    url: `http://127.0.0.1:${port}/mcp`,
    calls,
    addTask: (name) => newTask(name, 'untrusted', '127.0.0.1').task_id,
    get rawResults() {
      return state.rawResults;
    },
    set rawResults(value: string | null) {
      state.rawResults = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections();
        http.close((error) => (error ? reject(error) : resolve()));
      }),
  };
  return gateway;
}
