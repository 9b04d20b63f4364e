import { randomUUID } from 'node:crypto';
import { text } from 'node:stream/consumers';
import { toAppError, type AppError, type Logger, type Scope } from '@nessus-mcp/core';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import {
  CallToolRequestSchema,
  DEFAULT_NEGOTIATED_PROTOCOL_VERSION,
  ErrorCode,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type CallToolResult,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import { cleanUntrustedText, cleanUntrustedValue } from '@nessus-mcp/schema';
import { z } from 'zod';
import { assertScope, forbiddenError, hasScope, type Principal } from '../auth/principal.js';
import { parseArguments } from '../schemas/parse-arguments.js';
import type { GatewayServices } from '../services/gateway-services.js';
import { statusResourceUri } from '../services/task-view.js';
import type { CallContext } from '../services/service-context.js';
import { supportsResourceLinks } from './protocol-version.js';
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
  /** Called after every tool call with its outcome (`ok` or an error code), for metrics. */
  onToolCall?: (tool: string, outcome: string, seconds: number) => void;
  /**
   * The caller when the transport has one for the server's whole life (stdio: the operator). Over
   * HTTP each request names its own (`mcpAuthInfo`), and a message without one is refused.
   */
  principal?: Principal;
  /**
   * The protocol version the client negotiated, when the transport has one for the server's life
   * (stdio learns it from its initialize). Older clients get no `resource_link` blocks; without a
   * version the spec's default for a client that did not say (2025-03-26) applies.
   */
  protocolVersion?: () => string;
}

/**
 * Who sent one HTTP request's MCP message. The HTTP route hands it to the SDK as the request's
 * `authInfo` (`mcpAuthInfo`), and every handler reads it from its own request's `extra`: nothing
 * about a caller is kept on the server, so one server can serve request after request.
 */
export interface McpCaller {
  principal: Principal;
  /** Trace id of the HTTP request carrying the message. */
  traceId: string;
  logger: Logger;
  /** From the request's MCP-Protocol-Version header (the HTTP route refused an unsupported one). */
  protocolVersion: string;
}

const CALLER = Symbol('nessus-mcp caller');

/** The SDK's `authInfo` for one HTTP request: the caller rides in `extra`, the token stays a non-secret id. */
export function mcpAuthInfo(tokenId: string, caller: McpCaller): AuthInfo {
  return { token: tokenId, clientId: caller.principal.name, scopes: [...caller.principal.scopes], extra: { [CALLER]: caller } };
}

function callerOf(extra: { authInfo?: AuthInfo }): McpCaller | undefined {
  return (extra.authInfo?.extra as Record<symbol, unknown> | undefined)?.[CALLER] as McpCaller | undefined;
}

/** What the SDK hands each request handler beside the request. */
type RequestExtra = { authInfo?: AuthInfo };

interface CompiledTool {
  definition: ToolDefinition;
  input: z.ZodObject;
}

// The SDK builds a new Ajv instance per server unless given one (stdio and tests build several
// servers). One shared validator, which caches compiled schemas, serves them all.
const SCHEMA_VALIDATOR = new AjvJsonSchemaValidator();

// Compiled once per process, whatever the number of servers built.
const TOOLS = new Map<string, CompiledTool>(
  TOOL_DEFINITIONS.map((definition) => [definition.name, { definition, input: z.strictObject(definition.inputShape) }]),
);

/** A refused scope check goes to the audit trail; a failed write must not change the answer. */
function auditRefusal(services: GatewayServices, call: CallContext, detail: string): void {
  void services.context.audit
    .record({ client: call.principal.name, action: 'access.denied', task_id: null, targets: null, outcome: 'forbidden', detail })
    .catch((error: unknown) => call.logger.warn({ err: String(error) }, 'audit record not written'));
}

export function errorResult(error: AppError): CallToolResult {
  // Messages quote what the caller sent (an unknown field name, a target), which may hold invisible text.
  return { content: [{ type: 'text', text: JSON.stringify(cleanUntrustedValue(error.toBody())) }], isError: true };
}

/**
 * Every tool result leaves through here: structured values are cleaned of invisible and control
 * characters (scan names, plugin output quoted in authentication evidence, host names); JSON-NL
 * text was cleaned line by line when written, and the pass over the whole text catches any
 * invisible character a line writer let through (JSON.stringify escapes controls but not those).
 * `withLinks`: the client's protocol has `resource_link` blocks; older ones find the URIs in the JSON text.
 */
/**
 * A structured output cleaned and serialised. A frozen one is an object a service hands out again
 * (a settled task's status view): it is cleaned and serialised once and kept by its identity;
 * any other is a fresh object, done per call and not kept.
 */
const preparedOutputs = new WeakMap<object, { structured: unknown; json: string }>();

function prepared(structured: NonNullable<ToolOutput['structured']>): { structured: unknown; json: string } {
  let kept = preparedOutputs.get(structured);
  if (kept === undefined) {
    const cleaned = cleanUntrustedValue(structured);
    kept = { structured: cleaned, json: JSON.stringify(cleaned) };
    if (Object.isFrozen(structured)) preparedOutputs.set(structured, kept);
  }
  return kept;
}

function toResult(output: ToolOutput, withLinks: boolean): CallToolResult {
  const content: CallToolResult['content'] = [];
  const ready = output.structured === undefined ? undefined : prepared(output.structured);
  const structured = ready?.structured as CallToolResult['structuredContent'];
  if (output.text !== undefined) content.push({ type: 'text', text: cleanUntrustedText(output.text) });
  else if (ready !== undefined) content.push({ type: 'text', text: ready.json });
  if (withLinks) for (const link of output.links ?? []) content.push(cleanUntrustedValue(link));
  return structured !== undefined && output.text === undefined ? { content, structuredContent: structured } : { content };
}

/**
 * Every MCP resource template, each with the scope a caller needs to list or read it. A new
 * resource is added here (the three resource methods below serve exactly this table), so it
 * cannot be added without a scope; test/scope-declarations.test.ts checks what the server lists.
 */
export interface ResourceDefinition {
  name: string;
  uriTemplate: string;
  title: string;
  description: string;
  mimeType: string;
  scope: Scope;
}

export const RESOURCE_DEFINITIONS: readonly ResourceDefinition[] = [
  {
    name: 'task-status',
    uriTemplate: 'nessus://tasks/{task_id}',
    title: 'Scan task status',
    description: 'The get_scan_status view of one task, as JSON.',
    mimeType: 'application/json',
    scope: 'nessus:read',
  },
  {
    name: 'task-report',
    uriTemplate: 'nessus://tasks/{task_id}/report.nessus',
    title: 'Raw Nessus export',
    description: 'The .nessus XML export of a completed scan.',
    mimeType: 'application/xml',
    scope: 'nessus:read',
  },
];

const STATUS_RESOURCE = RESOURCE_DEFINITIONS[0]!;
const REPORT_RESOURCE = RESOURCE_DEFINITIONS[1]!;

/** How many recent tasks `resources/list` names. */
const LISTED_TASKS = 20;

/** `nessus://tasks/{task_id}` and `nessus://tasks/{task_id}/report.nessus`. */
const TASK_RESOURCE = /^nessus:\/\/tasks\/([^/?#]*)(\/report\.nessus)?$/;

/** JSON-RPC -32002, the spec's "resource not found"; the SDK has no constant for it. */
const RESOURCE_NOT_FOUND = -32002;

function resourceNotFound(uri: string, reason: string): McpError {
  return new McpError(RESOURCE_NOT_FOUND, `Resource not found: ${uri}`, { uri, reason });
}

/**
 * JSON-RPC -32003 (implementation-defined): a resource method refused for a missing scope.
 * Resource methods have no error result like tools, so the tools' error body is the `data`.
 */
export const RESOURCE_FORBIDDEN = -32003;

function resourceForbidden(services: GatewayServices, call: CallContext, resource: ResourceDefinition, method: string): McpError {
  auditRefusal(services, call, `MCP ${method} ${resource.name}`);
  const error = forbiddenError(call.principal, resource.scope, `${method} of ${resource.uriTemplate}`);
  call.logger.info({ method, resource: resource.name, code: error.code }, 'resource request refused');
  return new McpError(RESOURCE_FORBIDDEN, error.message, error.toBody().error);
}

/** The raw report as text, through the same service function as the REST download. */
async function reportText(services: GatewayServices, taskId: string, uri: string): Promise<string> {
  const report = await services.openReport(taskId);
  if (report.size > MAX_INLINE_REPORT_BYTES) {
    report.stream.destroy();
    const download = `/api/v1/tasks/${taskId}/report.nessus`;
    throw new McpError(ErrorCode.InvalidParams, `the report is ${Math.round(report.size / 1048576)} MB; download it from GET ${download} instead`, {
      uri,
      download,
    });
  }
  return text(report.stream);
}

/**
 * One task resource, read through the service layer. A task that does not exist, an id that is
 * not a task id and a report not written yet are all "resource not found" (-32002, the URI in
 * `data`), which a client can tell from a server fault.
 */
async function readTaskResource(services: GatewayServices, uri: string, call: CallContext): Promise<ReadResourceResult> {
  const match = TASK_RESOURCE.exec(uri);
  if (!match) throw resourceNotFound(uri, 'task resources are nessus://tasks/{task_id} and nessus://tasks/{task_id}/report.nessus');
  const resource = match[2] ? REPORT_RESOURCE : STATUS_RESOURCE;
  if (!hasScope(call.principal, resource.scope)) throw resourceForbidden(services, call, resource, 'resources/read');
  const taskId = match[1] ?? '';
  try {
    // The model reads these copies: they are cleaned like every other output (the REST download stays byte-exact).
    if (match[2]) return { contents: [{ uri, mimeType: 'application/xml', text: cleanUntrustedText(await reportText(services, taskId, uri)) }] };
    const view = await services.getScanStatus(taskId, call);
    return { contents: [{ uri, mimeType: 'application/json', text: prepared(view).json }] };
  } catch (thrown) {
    if (thrown instanceof McpError) throw thrown;
    const error = toAppError(thrown);
    if (error.code === 'not_found' || error.code === 'not_ready' || error.code === 'invalid_argument') throw resourceNotFound(uri, error.message);
    call.logger.error({ err: thrown, uri }, 'resource read failed');
    throw new McpError(ErrorCode.InternalError, error.message, { uri });
  }
}

/**
 * The MCP server with every tool, resource and prompt, over the given services. Transport-free:
 * the HTTP route connects one to a `RequestMultiplexer` for all its requests, the stdio entry to stdio.
 */
export function buildMcpServer(services: GatewayServices, options: McpServerOptions): McpServer {
  // No `logging` capability: a stateless server has no channel to send log notifications on.
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION }, { instructions: INSTRUCTIONS, jsonSchemaValidator: SCHEMA_VALIDATOR });
  const protocolVersion = (extra: RequestExtra): string =>
    callerOf(extra)?.protocolVersion ?? options.protocolVersion?.() ?? DEFAULT_NEGOTIATED_PROTOCOL_VERSION;
  const callContext = (extra: RequestExtra): CallContext => {
    const caller = callerOf(extra);
    if (caller) return { traceId: caller.traceId, logger: caller.logger, principal: caller.principal };
    if (!options.principal) throw new McpError(ErrorCode.InvalidRequest, 'no authenticated caller for this message');
    const traceId = randomUUID();
    return { traceId, logger: options.logger.child({ trace_id: traceId }), principal: options.principal };
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
      async (args: Record<string, unknown>, extra) =>
        toResult(await definition.run(services, args, callContext(extra)), supportsResourceLinks(protocolVersion(extra))),
    );
  }

  // The SDK answers invalid arguments with plain text; agents and the REST twin need the JSON error
  // body with a code, so tools/call is dispatched here, after the SDK registered (and lists) the tools.
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const tool = TOOLS.get(request.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Tool ${request.params.name} not found`);
    const started = process.hrtime.bigint();
    const call = callContext(extra);
    let outcome = 'ok';
    try {
      assertScope(call.principal, tool.definition.scope, `tool ${tool.definition.name}`);
      const args = parseArguments(tool.input, request.params.arguments);
      return toResult(await tool.definition.run(services, args, call), supportsResourceLinks(protocolVersion(extra)));
    } catch (thrown) {
      const error = toAppError(thrown);
      outcome = error.code;
      if (error.code === 'forbidden') auditRefusal(services, call, `MCP tool ${tool.definition.name}`);
      if (error.code === 'internal') call.logger.error({ err: thrown, tool: tool.definition.name }, 'tool failed');
      else call.logger.info({ tool: tool.definition.name, code: error.code, msg_detail: error.message }, 'tool refused the call');
      return errorResult(error);
    } finally {
      options.onToolCall?.(tool.definition.name, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    }
  });

  // Resources are served from RESOURCE_DEFINITIONS by the three handlers here rather than the
  // SDK's registerResource: each method checks the caller's scope first, and the SDK answers a
  // URI no template matches with -32602 where the spec's answer is -32002.
  server.server.registerCapabilities({ resources: { listChanged: false } });
  server.server.setRequestHandler(ListResourceTemplatesRequestSchema, async (_request, extra) => {
    const call = callContext(extra);
    const allowed = RESOURCE_DEFINITIONS.filter((resource) => hasScope(call.principal, resource.scope));
    // Nothing to show is refused rather than answered empty, so the client learns which scope is missing.
    if (allowed.length === 0) throw resourceForbidden(services, call, RESOURCE_DEFINITIONS[0]!, 'resources/templates/list');
    return { resourceTemplates: allowed.map(({ name, uriTemplate, title, description, mimeType }) => ({ name, uriTemplate, title, description, mimeType })) };
  });
  server.server.setRequestHandler(ListResourcesRequestSchema, async (_request, extra) => {
    const call = callContext(extra);
    if (!hasScope(call.principal, STATUS_RESOURCE.scope)) throw resourceForbidden(services, call, STATUS_RESOURCE, 'resources/list');
    const { tasks } = await services.listTasks({ limit: LISTED_TASKS });
    return {
      resources: tasks.map((task) => ({
        uri: statusResourceUri(task.task_id),
        name: `${task.name} (${task.status})`,
        title: STATUS_RESOURCE.title,
        description: STATUS_RESOURCE.description,
        mimeType: STATUS_RESOURCE.mimeType,
      })),
    };
  });
  server.server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => readTaskResource(services, request.params.uri, callContext(extra)));

  server.registerPrompt(
    'triage_scan',
    {
      title: 'Triage a scan',
      description: "Walk from a scan task's status to its critical and high findings, with authentication checks and a remediation summary.",
      argsSchema: TRIAGE_PROMPT_ARGS,
    },
    ({ task_id }) => ({ messages: triagePromptMessages(task_id) }),
  );

  // The SDK declares listChanged for every registered kind; the lists here are fixed (and a
  // stateless server has no channel to announce a change on), so nothing is promised.
  server.server.registerCapabilities({ tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } });

  return server;
}
