import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, toAppError, type Logger } from '@nessus-mcp/core';
import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { CallToolRequestSchema, ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { assertScope, type Principal } from '../auth/principal.js';
import { parseArguments } from '../schemas/parse-arguments.js';
import { taskIdParam } from '../schemas/tool-inputs.js';
import type { GatewayServices } from '../services/gateway-services.js';
import { REPORT_FILE, reportResourceUri, statusResourceUri } from '../services/scan-status.js';
import { taskDir, type CallContext } from '../services/service-context.js';
import { TOOL_DEFINITIONS, type ToolDefinition, type ToolOutput } from './tool-definitions.js';
import { TRIAGE_PROMPT_ARGS, triagePromptMessages } from './triage-prompt.js';

export const SERVER_NAME = 'nessus-mcp';
export const SERVER_VERSION = '0.1.0';

/** Past this size the raw report is not inlined as a resource: the REST download streams it instead. */
const MAX_INLINE_REPORT_BYTES = 20 * 1024 * 1024;

const INSTRUCTIONS =
  'Runs Nessus vulnerability scans and reads their results. Typical flow: run_untrusted_scan (or run_trusted_scan / ' +
  'run_privileged_scan with SSH credentials) → poll get_scan_status until "completed" → get_scan_results with filters such as ' +
  '{"severity": ">=3"}. Targets must be inside the server\'s allowed ranges. The triage_scan prompt walks through a finished scan.';

export interface McpServerOptions {
  logger: Logger;
  /** Trace id of the HTTP request carrying this MCP message; stdio generates one per call. */
  traceId?: string;
  /** Called after every tool call with its outcome (`ok` or an error code), for metrics. */
  onToolCall?: (tool: string, outcome: string, seconds: number) => void;
  /** The authenticated caller: tools, resources and prompts check its scopes. */
  principal: Principal;
}

interface CompiledTool {
  definition: ToolDefinition;
  input: z.ZodObject;
}

// The SDK builds a new Ajv instance per server unless given one: measured as the largest share of a
// stateless request's CPU. One shared validator (it caches compiled schemas) serves every request.
const SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

// Compiled once per process: a stateless HTTP gateway builds a server per request.
const TOOLS = new Map<string, CompiledTool>(TOOL_DEFINITIONS.map((definition) => [definition.name, { definition, input: z.strictObject(definition.inputShape) }]));

/** A refused scope check goes to the audit trail; a failed write must not change the answer. */
function auditRefusal(services: GatewayServices, call: CallContext, tool: string): void {
  void services.context.audit
    .record({ client: call.principal.name, action: 'access.denied', task_id: null, targets: null, outcome: 'forbidden', detail: `MCP tool ${tool}` })
    .catch((error: unknown) => call.logger.warn({ err: String(error) }, 'audit record not written'));
}

export function errorResult(error: AppError): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(error.toBody()) }], isError: true };
}

function toResult(output: ToolOutput): CallToolResult {
  const content: CallToolResult['content'] = [];
  if (output.text !== undefined) content.push({ type: 'text', text: output.text });
  else if (output.structured !== undefined) content.push({ type: 'text', text: JSON.stringify(output.structured) });
  for (const link of output.links ?? []) content.push(link);
  return output.structured !== undefined && output.text === undefined ? { content, structuredContent: output.structured } : { content };
}

interface Templates {
  status: ResourceTemplate;
  report: ResourceTemplate;
}

// Parsed once per services object: the HTTP gateway builds a server per request.
const TEMPLATES = new WeakMap<GatewayServices, Templates>();

function resourceTemplates(services: GatewayServices): Templates {
  let templates = TEMPLATES.get(services);
  if (!templates) {
    templates = {
      status: new ResourceTemplate('nessus://tasks/{task_id}', {
        list: async () => {
          const { tasks } = await services.listTasks({ limit: 20 });
          return { resources: tasks.map((task) => ({ uri: statusResourceUri(task.task_id), name: `${task.name} (${task.status})`, mimeType: 'application/json' })) };
        },
      }),
      report: new ResourceTemplate('nessus://tasks/{task_id}/report.nessus', { list: undefined }),
    };
    TEMPLATES.set(services, templates);
  }
  return templates;
}

/**
 * The MCP server with every tool, resource and prompt, over the given services. Transport-free:
 * the HTTP route connects it to a Streamable HTTP transport per request, the stdio entry once.
 */
export function buildMcpServer(services: GatewayServices, options: McpServerOptions): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { instructions: INSTRUCTIONS, capabilities: { logging: {} }, jsonSchemaValidator: SCHEMA_VALIDATOR });
  const callContext = (): CallContext => {
    const traceId = options.traceId ?? randomUUID();
    return { traceId, logger: options.traceId ? options.logger : options.logger.child({ trace_id: traceId }), principal: options.principal };
  };

  for (const { definition, input } of TOOLS.values()) {
    server.registerTool(
      definition.name,
      {
        title: definition.title,
        description: definition.description,
        // A prebuilt object, not the raw shape: the SDK would build a new zod object per tool per request.
        inputSchema: input,
        ...(definition.outputSchema ? { outputSchema: definition.outputSchema } : {}),
        annotations: definition.annotations,
      },
      async (args: Record<string, unknown>) => toResult(await definition.run(services, args, callContext())),
    );
  }

  // The SDK answers invalid arguments with plain text; agents and the REST twin need the JSON error
  // body with a code, so tools/call is dispatched here, after the SDK registered (and lists) the tools.
  server.server.setRequestHandler(CallToolRequestSchema, async (request) => {
    const tool = TOOLS.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
    const started = process.hrtime.bigint();
    const call = callContext();
    let outcome = 'ok';
    try {
      assertScope(options.principal, tool.definition.scope, `tool ${tool.definition.name}`);
      const args = parseArguments(tool.input, request.params.arguments);
      return toResult(await tool.definition.run(services, args, call));
    } catch (thrown) {
      const error = toAppError(thrown);
      outcome = error.code;
      if (error.code === 'forbidden') auditRefusal(services, call, tool.definition.name);
      if (error.code === 'internal') call.logger.error({ err: thrown, tool: tool.definition.name }, 'tool failed');
      else call.logger.info({ tool: tool.definition.name, code: error.code, msg_detail: error.message }, 'tool refused the call');
      return errorResult(error);
    } finally {
      options.onToolCall?.(tool.definition.name, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });

  const templates = resourceTemplates(services);
  server.registerResource(
    'task-status',
    templates.status,
    { title: 'Scan task status', description: 'The get_scan_status view of one task, as JSON.', mimeType: 'application/json' },
    async (uri, variables) => {
      assertScope(options.principal, 'nessus:read', 'reading task resources');
      const taskId = parseArguments(z.object({ task_id: taskIdParam }), variables).task_id;
      const view = await services.getScanStatus(taskId, callContext());
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(view) }] };
    },
  );

  server.registerResource(
    'task-report',
    templates.report,
    { title: 'Raw Nessus export', description: 'The .nessus XML export of a completed scan.', mimeType: 'application/xml' },
    async (uri, variables) => {
      assertScope(options.principal, 'nessus:read', 'reading task reports');
      const taskId = parseArguments(z.object({ task_id: taskIdParam }), variables).task_id;
      await services.context.tasks.require(taskId);
      const path = join(taskDir(services.context, taskId), REPORT_FILE);
      const info = await stat(path).catch(() => null);
      if (!info) throw new AppError('not_ready', `task ${taskId} has no report yet; wait until get_scan_status says completed`);
      if (info.size > MAX_INLINE_REPORT_BYTES) {
        throw new AppError('invalid_argument', `the report is ${Math.round(info.size / 1048576)} MB; download it from GET /api/v1/tasks/${taskId}/report.nessus instead`);
      }
      return { contents: [{ uri: reportResourceUri(taskId), mimeType: 'application/xml', text: await readFile(path, 'utf8') }] };
    },
  );

  server.registerPrompt(
    'triage_scan',
    {
      title: 'Triage a scan',
      description: 'Walk from a scan task\'s status to its critical and high findings, with authentication checks and a remediation summary.',
      argsSchema: TRIAGE_PROMPT_ARGS,
    },
    ({ task_id }) => ({ messages: triagePromptMessages(task_id) }),
  );

  return server;
}
