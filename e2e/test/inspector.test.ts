import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { join } from 'node:path';
import { REPO_ROOT, SystemUnderTest, eventually, runCommand, toolJson, toolText, type CommandResult } from './system-under-test.js';

/*
 * An agent developer's first check of an MCP server: the official MCP Inspector, headless
 * (`--cli`), against the live gateway over Streamable HTTP and over stdio.
 */

const INSPECTOR = join(REPO_ROOT, 'node_modules', '.bin', 'mcp-inspector');
const CONTRACT_TOOLS = [
  'cancel_scan',
  'compare_scans',
  'get_finding',
  'get_queue_status',
  'get_scan_results',
  'get_scan_status',
  'list_scanners',
  'list_tasks',
  'run_privileged_scan',
  'run_trusted_scan',
  'run_untrusted_scan',
  'search_findings',
  'summarize_findings',
];

interface ListedTool {
  name: string;
  description?: string;
  inputSchema: { type: string; properties?: Record<string, unknown>; required?: string[] };
  outputSchema?: unknown;
}

interface SchemaFinding {
  rule: string;
  severity: string;
  schema: string;
  path: string;
  issue: string;
}

interface ToolCallResult {
  content: Array<{ type: string; text?: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

interface Status {
  task_id: string;
  status: string;
  results_summary?: { hosts_scanned: number; total_vulnerabilities: number };
}

let system: SystemUnderTest;

beforeAll(async () => {
  system = await SystemUnderTest.start({ label: 'inspector', scanSeconds: 2 });
}, 90000);

afterAll(async () => {
  await system?.stop();
});

function httpArgs(token = system.token): string[] {
  return ['--cli', '--server-url', `${system.gatewayUrl}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${token}`];
}

/** The stdio server gets only what `-e` passes (the SDK spawns it with a minimal environment). */
function stdioArgs(): string[] {
  const env = system.env();
  const pass = ['REDIS_URL', 'DATA_DIR', 'SCANNERS_CONFIG', 'AUTH_TOKEN', 'LOG_LEVEL'].flatMap((name) => ['-e', `${name}=${env[name] ?? ''}`]);
  return ['--cli', ...pass, '--transport', 'stdio'];
}

const STDIO_SERVER = ['node', 'apps/gateway/dist/stdio.js'];

/** `target` (the stdio server's command) goes last, after every Inspector option. */
async function inspector(args: string[], target: string[] = []): Promise<CommandResult> {
  return runCommand(INSPECTOR, [...args, '--format', 'json', ...target], { timeoutMs: 60000 });
}

/** The Inspector's `--format json` answer: one object with the method's `result`. */
function parsed<T>(run: CommandResult): T & { result: unknown } {
  if (run.code !== 0) throw new Error(`inspector exited ${run.code ?? run.signal}: ${run.stderr || run.stdout}`);
  return JSON.parse(run.stdout) as T & { result: unknown };
}

async function listTools(args: string[], target: string[] = []): Promise<ListedTool[]> {
  return (parsed<object>(await inspector([...args, '--method', 'tools/list'], target)).result as { tools: ListedTool[] }).tools;
}

async function callTool(args: string[], tool: string, toolArgs: Record<string, unknown>, target: string[] = []): Promise<ToolCallResult> {
  const run = await inspector([...args, '--method', 'tools/call', '--tool-name', tool, '--tool-args-json', JSON.stringify(toolArgs)], target);
  const result = parsed<object>(run).result as ToolCallResult;
  if (result.isError) throw new Error(`${tool} answered an error: ${toolText(result)}`);
  return result;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('the MCP Inspector CLI over Streamable HTTP', () => {
  it('lists the contract tools, each with an object input schema and a description', async () => {
    const tools = await listTools(httpArgs());
    expect(tools.map((t) => t.name).sort()).toEqual(CONTRACT_TOOLS);
    for (const tool of tools) {
      expect(tool.inputSchema.type).toBe('object');
      expect(tool.description?.length).toBeGreaterThan(40);
    }
    const untrusted = tools.find((t) => t.name === 'run_untrusted_scan')!;
    expect(untrusted.inputSchema.required).toEqual(expect.arrayContaining(['targets', 'name']));
  });

  it('--strict finds no error-severity portability problem in any tool schema', async () => {
    const run = await inspector([...httpArgs(), '--method', 'tools/list', '--strict']);
    // Exit 6 would mean an error-severity finding; warnings (nullable unions) are allowed.
    if (run.code !== 0) throw new Error(`inspector --strict exited ${run.code ?? run.signal}: ${run.stderr}`);
    const { schemaFindings = [] } = JSON.parse(run.stdout) as { schemaFindings?: Array<{ toolName: string; findings: SchemaFinding[] }> };
    const errors = schemaFindings.flatMap((tool) =>
      tool.findings.filter((f) => f.severity === 'error').map((f) => `${tool.toolName} ${f.schema} ${f.path}: ${f.issue}`),
    );
    expect(errors).toEqual([]);
  });

  it('refuses a wrong bearer token: no tool list, a non-zero exit', async () => {
    // A 401 makes the Inspector look for OAuth; --stored-auth-only is its non-interactive mode.
    const run = await inspector([...httpArgs('not-the-token-0123456789'), '--stored-auth-only', '--method', 'tools/list']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).not.toContain('run_untrusted_scan');
    expect(`${run.stdout}${run.stderr}`).toMatch(/auth_required|401|unauthori[sz]ed/i);
  });

  it('tools/call runs an untrusted scan: submit, get_scan_status until completed, get_scan_results', async () => {
    const submitted = toolJson<{ task_id: string; status: string }>(
      await callTool(httpArgs(), 'run_untrusted_scan', { targets: '10.70.0.1-2', name: 'inspector http scan' }),
    );
    expect(submitted.status).toBe('queued');
    expect(submitted.task_id).toMatch(/^ne_scan_\d{8}_\d{6}_[0-9a-f]{8}$/);

    const done = await eventually(
      async () => {
        const status = toolJson<Status>(await callTool(httpArgs(), 'get_scan_status', { task_id: submitted.task_id }));
        return ['completed', 'failed', 'timeout', 'cancelled'].includes(status.status) ? status : undefined;
      },
      60000,
      `task ${submitted.task_id} to finish`,
      500,
    );
    expect(done.status).toBe('completed');
    expect(done.results_summary?.hosts_scanned).toBe(2);

    const lines = jsonLines(
      toolText(await callTool(httpArgs(), 'get_scan_results', { task_id: submitted.task_id, page: 1, page_size: 10, schema_profile: 'minimal' })),
    );
    expect(lines[0]).toMatchObject({ type: 'schema', profile: 'minimal' });
    expect(lines[1]).toMatchObject({ type: 'scan_metadata', task_id: submitted.task_id });
    const findings = lines.filter((l) => l.type === 'vulnerability');
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.length).toBeLessThanOrEqual(10);
    expect(lines.at(-1)).toMatchObject({ type: 'pagination', page: 1, page_size: 10 });
  }, 120000);
});

describe('the MCP Inspector CLI over stdio (node apps/gateway/dist/stdio.js)', () => {
  let httpTaskId: string;

  beforeAll(async () => {
    const response = await system.api('/api/v1/scans/untrusted', {
      method: 'POST',
      body: JSON.stringify({ targets: '10.70.1.1', name: 'submitted over http, read over stdio' }),
    });
    httpTaskId = ((await response.json()) as { task_id: string }).task_id;
    await eventually(
      async () => ((await (await system.api(`/api/v1/tasks/${httpTaskId}`)).json()) as Status).status === 'completed',
      60000,
      'the HTTP-submitted task to complete',
    );
  }, 90000);

  it('lists the same tools', async () => {
    const tools = await listTools(stdioArgs(), STDIO_SERVER);
    expect(tools.map((t) => t.name).sort()).toEqual(CONTRACT_TOOLS);
  });

  it('list_scanners shows the configured simulator instance, healthy', async () => {
    const { pools } = toolJson<{ pools: Array<{ name: string; instances: Array<{ instance_id: string; healthy: boolean }> }> }>(
      await callTool(stdioArgs(), 'list_scanners', {}, STDIO_SERVER),
    );
    expect(pools.map((p) => p.name)).toEqual(['nessus']);
    expect(pools[0]!.instances).toEqual([expect.objectContaining({ instance_id: 'scanner1', healthy: true })]);
  });

  it('reads a task submitted over HTTP: get_scan_status says completed and get_scan_results returns its findings', async () => {
    const status = toolJson<Status>(await callTool(stdioArgs(), 'get_scan_status', { task_id: httpTaskId }, STDIO_SERVER));
    expect(status).toMatchObject({ task_id: httpTaskId, status: 'completed', results_summary: { hosts_scanned: 1 } });

    const overStdio = jsonLines(
      toolText(await callTool(stdioArgs(), 'get_scan_results', { task_id: httpTaskId, page: 0, schema_profile: 'minimal' }, STDIO_SERVER)),
    );
    const overHttp = (await (await system.api(`/api/v1/tasks/${httpTaskId}/results?page=0&schema_profile=minimal`)).text()).split('\n').filter((l) => l.trim());
    expect(overStdio.filter((l) => l.type === 'vulnerability')).toEqual(
      overHttp.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.type === 'vulnerability'),
    );
    expect(overStdio[0]!.total_vulnerabilities).toBeGreaterThan(0);
  });

  it('submits over stdio and the worker runs the scan to completion', async () => {
    const submitted = toolJson<{ task_id: string }>(
      await callTool(stdioArgs(), 'run_untrusted_scan', { targets: '10.70.1.2', name: 'submitted over stdio' }, STDIO_SERVER),
    );
    await eventually(
      async () => ((await (await system.api(`/api/v1/tasks/${submitted.task_id}`)).json()) as Status).status === 'completed',
      60000,
      'the stdio-submitted task to complete',
    );
  }, 90000);
});
