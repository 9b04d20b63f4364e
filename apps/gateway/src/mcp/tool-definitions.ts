import type { Scope, ScanType } from '@nessus-mcp/core';
import type { ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import {
  listTasksShape,
  poolFilterShape,
  privilegedScanShape,
  scanResultsShape,
  taskIdShape,
  trustedScanShape,
  untrustedScanShape,
} from '../schemas/tool-inputs.js';
import { queueStatusOutput, scannersOutput, submitScanOutput, taskListOutput, taskViewOutput } from '../schemas/tool-outputs.js';
import { reportResourceUri, statusResourceUri } from '../services/task-view.js';
import type { GatewayServices } from '../services/gateway-services.js';
import type { CallContext } from '../services/service-context.js';

export interface ResourceLinkItem {
  type: 'resource_link';
  uri: string;
  name: string;
  description: string;
  mimeType: string;
}

/** What a tool produces; the MCP glue turns it into content blocks. */
export interface ToolOutput {
  /** The object shown as JSON text and as `structuredContent` (tools with an outputSchema). */
  structured?: Record<string, unknown>;
  /** Text instead of JSON (get_scan_results' JSON-NL). */
  text?: string;
  links?: ResourceLinkItem[];
}

export interface ToolDefinition<Shape extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  inputShape: Shape;
  outputSchema?: z.ZodObject;
  annotations: ToolAnnotations;
  /** The scope a caller needs; declared here so a new tool cannot be added without one. */
  scope: Scope;
  run(services: GatewayServices, args: z.infer<z.ZodObject<Shape>>, call: CallContext): Promise<ToolOutput>;
}

function defineTool<Shape extends z.ZodRawShape>(definition: ToolDefinition<Shape>): ToolDefinition {
  return definition as unknown as ToolDefinition;
}

function taskLinks(taskId: string, hasReport: boolean): ResourceLinkItem[] {
  const links: ResourceLinkItem[] = [
    { type: 'resource_link', uri: statusResourceUri(taskId), name: `task ${taskId}`, description: 'Current status of this scan task (JSON).', mimeType: 'application/json' },
  ];
  if (hasReport) {
    links.push({ type: 'resource_link', uri: reportResourceUri(taskId), name: `${taskId}.nessus`, description: 'Raw Nessus export (XML) of this scan.', mimeType: 'application/xml' });
  }
  return links;
}

const SUBMIT_RETURNS =
  'Returns at once (the scan runs in the background) with task_id, trace_id, status "queued", scanner_pool, scanner_instance, ' +
  'queue_position and estimated_wait_minutes. Then poll get_scan_status(task_id) every minute or two; when status is "completed", ' +
  'read the findings with get_scan_results. Pass idempotency_key to make a retry safe.';

function submitTool(scanType: ScanType, name: string, title: string, description: string, shape: z.ZodRawShape): ToolDefinition {
  return defineTool({
    name,
    title,
    description,
    inputShape: shape,
    outputSchema: submitScanOutput,
    annotations: { title, readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true },
    scope: 'nessus:scan',
    run: async (services, args, call) => ({ structured: await services.submitScan(scanType, args as Parameters<GatewayServices['submitScan']>[1], call) }),
  });
}

export const TOOL_DEFINITIONS: readonly ToolDefinition[] = [
  submitTool(
    'untrusted',
    'run_untrusted_scan',
    'Run an unauthenticated network scan',
    'Start an unauthenticated Nessus vulnerability scan of hosts, as an outside attacker would see them (open ports, exposed services, ' +
      'remotely detectable vulnerabilities). Use it when you have no login for the targets or want the external view. ' +
      `${SUBMIT_RETURNS} Example: {"targets": "192.168.1.0/28, web01.lab.example.com", "name": "lab perimeter"}.`,
    untrustedScanShape,
  ),
  submitTool(
    'trusted',
    'run_trusted_scan',
    'Run a credentialed (SSH) scan',
    'Start a credentialed Nessus scan that logs in over SSH to check installed packages, patches and local configuration: far more ' +
      'complete than an unauthenticated scan for Linux/Unix hosts. Give ssh_username and exactly one of ssh_password or ssh_private_key. ' +
      'Credentials are encrypted at rest and never returned. get_scan_status reports authentication_status once done (did the login work?). ' +
      `${SUBMIT_RETURNS} Example: {"targets": "10.0.0.5", "name": "db patch audit", "ssh_username": "audit", "ssh_password": "..."}.`,
    trustedScanShape,
  ),
  submitTool(
    'privileged',
    'run_privileged_scan',
    'Run a credentialed scan with privilege escalation',
    'Like run_trusted_scan, but the SSH user then becomes root (elevate_privileges_with: sudo, su, su+sudo, pbrun or dzdo) so checks that ' +
      'need root (full package lists, protected configuration) can run. Use it when the SSH account is not root. ' +
      `${SUBMIT_RETURNS} Example: {"targets": "10.0.0.5", "name": "root audit", "ssh_username": "audit", "ssh_private_key": "-----BEGIN OPENSSH PRIVATE KEY-----...", ` +
      '"elevate_privileges_with": "sudo", "escalation_password": "..."}.',
    privilegedScanShape,
  ),
  defineTool({
    name: 'get_scan_status',
    title: 'Get a scan task\'s status',
    description:
      'Report where a scan task stands: status (queued, running, completed, failed, timeout, cancelled), queue position and expected wait ' +
      'while queued, live progress (0-100) while running, and once completed a results_summary (hosts, vulnerability counts by severity) ' +
      'and, for credentialed scans, authentication_status with troubleshooting hints when the login failed. Use it to poll after submitting. ' +
      'Example: {"task_id": "ne_scan_20251201_143022_a1b2c3d4"}.',
    inputShape: taskIdShape,
    outputSchema: taskViewOutput,
    annotations: { title: 'Get a scan task\'s status', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scope: 'nessus:read',
    run: async (services, args, call) => {
      const view = await services.getScanStatus(args.task_id, call);
      return { structured: view, links: taskLinks(view.task_id, view.resources.report !== null) };
    },
  }),
  defineTool({
    name: 'get_scan_results',
    title: 'Read a completed scan\'s findings',
    description:
      'Return the findings of a completed scan as JSON-NL text: a "schema" line (profile, fields, filters_applied, total_vulnerabilities, ' +
      'total_pages), a "scan_metadata" line, one "vulnerability" line per finding, and a "pagination" line (page, has_next, next_page). ' +
      'Filter before paging to keep answers small: {"severity": ">=3"} for high and critical. Use schema_profile "minimal" to skim and ' +
      '"full" for one finding\'s details; page=0 returns everything at once. Fails with not_ready until the scan is completed. ' +
      'Example: {"task_id": "ne_scan_20251201_143022_a1b2c3d4", "filters": {"severity": ">=3"}, "sort": "severity", "schema_profile": "summary"}.',
    inputShape: scanResultsShape,
    annotations: { title: 'Read a completed scan\'s findings', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scope: 'nessus:read',
    run: async (services, args) => {
      const page = await services.getScanResults(args);
      return { text: await page.toText(), links: taskLinks(args.task_id, true) };
    },
  }),
  defineTool({
    name: 'list_tasks',
    title: 'List scan tasks',
    description:
      'List scan tasks, newest first, optionally only those in one status, of one scanner pool, or whose targets overlap an address, ' +
      'CIDR or host name ("192.168.1.5" finds a scan of 192.168.1.0/24). Use it to find an earlier scan\'s task_id or to check what is ' +
      'running. Returns up to limit matches (default 20). Example: {"status": "completed", "target": "10.0.0.0/24", "limit": 5}.',
    inputShape: listTasksShape,
    outputSchema: taskListOutput,
    annotations: { title: 'List scan tasks', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scope: 'nessus:read',
    run: async (services, args) => ({ structured: await services.listTasks(args) }),
  }),
  defineTool({
    name: 'list_scanners',
    title: 'List scanner pools and instances',
    description:
      'List the scanner pools this server can use, each instance\'s capacity (max concurrent scans), how many scans it runs now, and ' +
      'its health (ok, starting with its progress, licence_restricted, unauthorized, unreachable). Use it to choose scanner_pool / scanner_instance or to ' +
      'explain why scans wait. Example: {} or {"scanner_pool": "internal"}.',
    inputShape: poolFilterShape,
    outputSchema: scannersOutput,
    annotations: { title: 'List scanner pools and instances', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scope: 'nessus:read',
    run: async (services, args) => ({ structured: await services.listScanners(args) }),
  }),
  defineTool({
    name: 'get_queue_status',
    title: 'Get scan queue statistics',
    description:
      'Report the scan queues: jobs waiting, active, delayed, completed and failed (dead-letter) per scanner pool and in total, and the ' +
      'age of the oldest waiting job. Use it to judge how long new scans will wait or whether scans are failing. Never shows job ' +
      'contents. Example: {}.',
    inputShape: poolFilterShape,
    outputSchema: queueStatusOutput,
    annotations: { title: 'Get scan queue statistics', readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    scope: 'nessus:read',
    run: async (services, args) => ({ structured: await services.getQueueStatus(args) }),
  }),
  defineTool({
    name: 'cancel_scan',
    title: 'Cancel a scan',
    description:
      'Cancel a queued or running scan: a queued one is dropped at once, a running one is stopped on the scanner within seconds and ends ' +
      '"cancelled" (partial results are discarded). Fails with conflict when the task already finished. Returns the task\'s status view. ' +
      'Example: {"task_id": "ne_scan_20251201_143022_a1b2c3d4"}.',
    inputShape: taskIdShape,
    outputSchema: taskViewOutput,
    annotations: { title: 'Cancel a scan', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    scope: 'nessus:scan',
    run: async (services, args, call) => {
      const view = await services.cancelScan(args.task_id, call);
      return { structured: view, links: taskLinks(view.task_id, view.resources.report !== null) };
    },
  }),
];
