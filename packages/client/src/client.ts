import { setTimeout as delay } from 'node:timers/promises';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { z } from 'zod';
import { errorFromToolResult, NessusMcpError, parseJson, readErrorBody } from './errors.js';
import {
  compareArguments,
  parseDeltaPage,
  parseSearchPage,
  searchArguments,
  type CompareQuery,
  type DeltaPage,
  type SearchPage,
  type SearchQuery,
} from './cross-scan.js';
import { parseResultsPage } from './jsonnl.js';
import { describeEndpoint, errorFromThrown } from './transport-errors.js';
import {
  cancelResultSchema,
  findingDetailSchema,
  findingSummarySchema,
  parseResponse,
  queueStatusSchema,
  scannerListSchema,
  scanStatusSchema,
  scanSubmissionSchema,
  taskListSchema,
} from './response-schemas.js';
import {
  listTasksArguments,
  privilegedScanArguments,
  resultsArguments,
  summaryArguments,
  trustedScanArguments,
  untrustedScanArguments,
} from './tool-arguments.js';
import type { ToolArguments } from './tool-arguments.js';
import { TERMINAL_STATUSES } from './types.js';
import type {
  CancelResult,
  CriticalVulnerabilityOptions,
  FindingDetail,
  FindingSummary,
  GroupBy,
  ListTasksQuery,
  NessusMcpClientOptions,
  PrivilegedScanParams,
  QueueStatus,
  ResultsIterationQuery,
  ResultsPage,
  ResultsQuery,
  ScannerList,
  ScanOutcome,
  ScanRequest,
  ScanStatus,
  ScanSubmission,
  SummaryQuery,
  TaskList,
  TaskStatus,
  TrustedScanParams,
  UntrustedScanParams,
  Vulnerability,
  VulnerabilitySummary,
  WaitOptions,
} from './types.js';

export const DEFAULT_URL = 'http://127.0.0.1:8835/mcp';
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_POLL_INTERVAL_MS = 2_000;
const DEFAULT_MAX_POLL_INTERVAL_MS = 15_000;
/** Growth of the poll delay while nothing changes: 2 s becomes 15 s after five quiet polls. */
const BACKOFF_FACTOR = 1.5;
/** The largest page the gateway serves; iterating with it costs the fewest round trips. */
const ITERATION_PAGE_SIZE = 100;
/** The client package's version, reported in the MCP handshake. */
const CLIENT_VERSION = '0.1.0';

/** Options every call accepts. */
export interface CallOptions {
  /** Aborts the call (with an `aborted` error). */
  signal?: AbortSignal;
}

interface RestAccess {
  /** The gateway's root URL, ending in a slash. */
  base: URL;
  token: string | undefined;
  fetch: typeof fetch;
}

interface ToolOutput {
  /** The text blocks, joined by newlines. */
  text: string;
  structured: unknown;
}

export function isTerminalStatus(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

function abortedError(signal: AbortSignal): NessusMcpError {
  return new NessusMcpError('aborted', 'the operation was aborted', { cause: signal.reason });
}

async function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) throw abortedError(signal);
    throw error;
  }
}

/**
 * A typed client of the nessus-mcp gateway's MCP tools over Streamable HTTP. One instance holds one
 * MCP connection; it is safe to issue calls concurrently. Close it when done.
 *
 * ```ts
 * const client = await NessusMcpClient.connect();
 * const { status } = await client.scanAndWait({ targets: '10.0.0.5', name: 'weekly' });
 * ```
 */
export class NessusMcpClient {
  /** The endpoint in use (without credentials), for messages. */
  readonly endpoint: string;
  private readonly mcp: Client;
  private readonly timeoutMs: number;
  private readonly rest: RestAccess;

  private constructor(mcp: Client, endpoint: string, timeoutMs: number, rest: RestAccess) {
    this.mcp = mcp;
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.rest = rest;
  }

  /** Connects (MCP handshake included); rejects with `unavailable` or `unauthorized` when it cannot. */
  static async connect(options: NessusMcpClientOptions = {}): Promise<NessusMcpClient> {
    const rawUrl = options.url ?? process.env.NESSUS_MCP_URL ?? DEFAULT_URL;
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new NessusMcpError('invalid_argument', `not a URL: ${String(rawUrl)} (expected e.g. ${DEFAULT_URL})`);
    }
    const endpoint = describeEndpoint(url);
    // fetch refuses URLs with credentials; say where the token belongs instead of a TypeError.
    if (url.username !== '' || url.password !== '') {
      throw new NessusMcpError('invalid_argument', `${endpoint}: remove the user name and password from the URL; the bearer token comes from AUTH_TOKEN`);
    }
    const token = options.token ?? process.env.AUTH_TOKEN;
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const transport = new StreamableHTTPClientTransport(url, {
      requestInit: token ? { headers: { Authorization: `Bearer ${token}` } } : {},
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const mcp = new Client({ name: options.clientName ?? 'nessus-mcp-client', version: CLIENT_VERSION });
    try {
      await mcp.connect(transport, { timeout: timeoutMs });
    } catch (error) {
      await transport.close().catch(() => undefined);
      throw errorFromThrown(error, endpoint);
    }
    // The REST mirror lives beside /mcp on the same gateway (downloads are plain HTTP, not MCP).
    const restBase = new URL(url.href.replace(/\/mcp\/?$/, '/'));
    return new NessusMcpClient(mcp, endpoint, timeoutMs, { base: restBase, token, fetch: options.fetch ?? fetch });
  }

  async close(): Promise<void> {
    await this.mcp.close();
  }

  // -------------------------------------------------------------------------------------------
  // Submitting

  submitUntrustedScan(params: UntrustedScanParams, options: CallOptions = {}): Promise<ScanSubmission> {
    return this.callJson('run_untrusted_scan', untrustedScanArguments(params), scanSubmissionSchema, options);
  }

  submitTrustedScan(params: TrustedScanParams, options: CallOptions = {}): Promise<ScanSubmission> {
    return this.callJson('run_trusted_scan', trustedScanArguments(params), scanSubmissionSchema, options);
  }

  submitPrivilegedScan(params: PrivilegedScanParams, options: CallOptions = {}): Promise<ScanSubmission> {
    return this.callJson('run_privileged_scan', privilegedScanArguments(params), scanSubmissionSchema, options);
  }

  /** Submits any scan type, chosen by `request.type` (untrusted when absent). */
  submitScan(request: ScanRequest, options: CallOptions = {}): Promise<ScanSubmission> {
    switch (request.type) {
      case 'trusted':
        return this.submitTrustedScan(request, options);
      case 'privileged':
        return this.submitPrivilegedScan(request, options);
      default:
        return this.submitUntrustedScan(request, options);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Status and waiting

  getStatus(taskId: string, options: CallOptions = {}): Promise<ScanStatus> {
    return this.callJson('get_scan_status', { task_id: taskId }, scanStatusSchema, options);
  }

  /**
   * Polls until the task reaches a terminal state (completed, failed, timeout, cancelled) and returns
   * that status; it does not throw for a failed scan, so check `status`. Polls every
   * `pollIntervalMs` while something changes and backs off up to `maxPollIntervalMs` while nothing
   * does, which keeps a long queue wait cheap for the gateway. Throws `deadline_exceeded` after
   * `timeoutMs` and `aborted` when `signal` fires; neither stops the scan (use `cancel`).
   */
  async waitForCompletion(taskId: string, options: WaitOptions = {}): Promise<ScanStatus> {
    const base = Math.max(1, options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    const ceiling = Math.max(base, options.maxPollIntervalMs ?? DEFAULT_MAX_POLL_INTERVAL_MS);
    const deadline = options.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + options.timeoutMs;
    const { signal } = options;
    let interval = base;
    let previous: ScanStatus | null = null;
    for (;;) {
      if (signal?.aborted) throw abortedError(signal);
      const status = await this.getStatus(taskId, signal ? { signal } : {});
      options.onProgress?.(status);
      if (isTerminalStatus(status.status)) return status;
      const changed = previous === null || previous.status !== status.status || previous.progress !== status.progress;
      interval = changed ? base : Math.min(ceiling, Math.round(interval * BACKOFF_FACTOR));
      previous = status;
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new NessusMcpError('deadline_exceeded', `task ${taskId} was still ${status.status} after ${options.timeoutMs} ms of waiting`, {
          details: { task_id: taskId, status: status.status, progress: status.progress ?? null },
        });
      }
      await sleep(Math.min(interval, remaining), signal);
    }
  }

  /** Submits a scan and waits for its terminal state. */
  async scanAndWait(request: ScanRequest, options: WaitOptions = {}): Promise<ScanOutcome> {
    const submission = await this.submitScan(request, options.signal ? { signal: options.signal } : {});
    const status = await this.waitForCompletion(submission.task_id, options);
    return { submission, status };
  }

  // -------------------------------------------------------------------------------------------
  // Results

  /** One page of findings (page 1 by default; page 0 is everything at once, without pagination). */
  async getResults(taskId: string, query: ResultsQuery = {}, options: CallOptions = {}): Promise<ResultsPage> {
    const output = await this.call('get_scan_results', resultsArguments(taskId, query), options);
    return parseResultsPage(output.text);
  }

  /** Every page in order, fetched one at a time as the loop asks for it. */
  async *iteratePages(taskId: string, query: ResultsIterationQuery = {}, options: CallOptions = {}): AsyncGenerator<ResultsPage, void, undefined> {
    const pageSize = query.pageSize ?? ITERATION_PAGE_SIZE;
    let page = 1;
    let result = await this.getResults(taskId, { ...query, pageSize, page }, options);
    for (;;) {
      yield result;
      const next = result.pagination?.has_next ? result.pagination.next_page : null;
      // A next page that does not move forward would loop for ever; the contract never sends one.
      if (next === null || next <= page) return;
      page = next;
      // The cursor ties the next page to this query and to the same ingested results (a re-ingest
      // meanwhile is a conflict, not a silently shifted page); older gateways send none.
      const cursor = result.pagination?.cursor;
      result =
        typeof cursor === 'string' ? await this.getResults(taskId, { cursor }, options) : await this.getResults(taskId, { ...query, pageSize, page }, options);
    }
  }

  /** Every finding across all pages, in the server's order. */
  async *iterateResults(taskId: string, query: ResultsIterationQuery = {}, options: CallOptions = {}): AsyncGenerator<Vulnerability, void, undefined> {
    for await (const page of this.iteratePages(taskId, query, options)) yield* page.vulnerabilities;
  }

  /**
   * The findings as CSV from the REST mirror (`GET /api/v1/tasks/{id}/results.csv`): the same filters,
   * sort and fields as `getResults`, every match unless `page` or `cursor` is given. Yields the text
   * as it streams in; spreadsheet formulas in scanner text are neutralised by the gateway.
   */
  async *streamResultsCsv(taskId: string, query: ResultsQuery = {}, options: CallOptions = {}): AsyncGenerator<string, void, undefined> {
    const url = new URL(`api/v1/tasks/${encodeURIComponent(taskId)}/results.csv`, this.rest.base);
    const args = resultsArguments(taskId, query);
    for (const [key, value] of Object.entries(args)) {
      if (key === 'task_id' || value === undefined) continue;
      url.searchParams.set(key, Array.isArray(value) ? value.join(',') : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));
    }
    let response: Response;
    try {
      response = await this.rest.fetch(url, {
        headers: this.rest.token ? { authorization: `Bearer ${this.rest.token}` } : {},
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      throw errorFromThrown(error, this.endpoint, options.signal);
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw readErrorBody(parseJson(text)) ?? new NessusMcpError('internal', `results.csv: HTTP ${response.status} ${text.slice(0, 200)}`);
    }
    const decoder = new TextDecoder();
    for await (const chunk of response.body) yield decoder.decode(chunk as Uint8Array, { stream: true });
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  }

  /** Findings of severity 4 (critical), or of at least `minSeverity`, most severe first. */
  async getCriticalVulnerabilities(taskId: string, options: CriticalVulnerabilityOptions & CallOptions = {}): Promise<Vulnerability[]> {
    const minSeverity = options.minSeverity ?? 4;
    const query: ResultsIterationQuery = {
      filters: { ...options.filters, severity: minSeverity === 4 ? 4 : `>=${minSeverity}` },
      sort: 'severity',
      ...(options.profile ? { profile: options.profile } : {}),
      ...(options.customFields ? { customFields: options.customFields } : {}),
    };
    const found: Vulnerability[] = [];
    for await (const finding of this.iterateResults(taskId, query, options.signal ? { signal: options.signal } : {})) found.push(finding);
    return found;
  }

  /**
   * Counts of a completed scan: hosts, findings (severity ≥ 1) and the breakdown by severity.
   * Rejects with `not_ready` while the task has not completed.
   */
  async getVulnerabilitySummary(taskId: string, options: CallOptions = {}): Promise<VulnerabilitySummary> {
    const status = await this.getStatus(taskId, options);
    if (status.status !== 'completed') {
      throw new NessusMcpError('not_ready', `task ${taskId} is ${status.status}; a summary exists once it has completed`, {
        details: { task_id: taskId, status: status.status },
      });
    }
    const summary = status.results_summary;
    if (summary) {
      return {
        task_id: taskId,
        scan_name: status.name ?? null,
        hosts_scanned: summary.hosts_scanned,
        total_vulnerabilities: summary.total_vulnerabilities,
        severity_breakdown: summary.severity_breakdown,
        authentication_status: summary.authentication_status ?? status.authentication_status ?? null,
        file_size_kb: summary.file_size_kb ?? null,
      };
    }
    // Older gateways put the counts only on the results' metadata line: read the smallest page.
    const page = await this.getResults(taskId, { page: 1, pageSize: 10, profile: 'minimal' }, options);
    const { metadata } = page;
    if (metadata.hosts_scanned === undefined || metadata.total_vulnerabilities === undefined || metadata.severity_breakdown === undefined) {
      throw new NessusMcpError('invalid_response', `task ${taskId} completed but the gateway reported no results summary`);
    }
    return {
      task_id: taskId,
      scan_name: metadata.scan_name ?? status.name ?? null,
      hosts_scanned: metadata.hosts_scanned,
      total_vulnerabilities: metadata.total_vulnerabilities,
      severity_breakdown: metadata.severity_breakdown,
      authentication_status: metadata.authentication_status ?? status.authentication_status ?? null,
      file_size_kb: null,
    };
  }

  /**
   * Finding counts per group (largest first; `severity` from critical to info), over the findings
   * `query.filters` keep. `groupBy: 'solution'` is the fix-first list.
   */
  summarizeFindings(taskId: string, groupBy: GroupBy, query: SummaryQuery = {}, options: CallOptions = {}): Promise<FindingSummary> {
    return this.callJson('summarize_findings', summaryArguments(taskId, groupBy, query), findingSummarySchema, options);
  }

  /** One finding with every field; a long plugin output comes cut, with `plugin_output_truncated` set. */
  getFinding(taskId: string, findingId: string, options: CallOptions = {}): Promise<FindingDetail> {
    return this.callJson('get_finding', { task_id: taskId, finding_id: findingId }, findingDetailSchema, options);
  }

  /**
   * The task's HTML report (`GET /api/v1/tasks/{id}/report.html` on the gateway serving the MCP
   * endpoint): one self-contained page, to save and open in a browser.
   */
  async getReportHtml(taskId: string, options: CallOptions = {}): Promise<string> {
    const url = new URL(`api/v1/tasks/${encodeURIComponent(taskId)}/report.html`, this.rest.base);
    const { signal } = options;
    let response: Response;
    try {
      response = await this.rest.fetch(url, {
        headers: this.rest.token ? { authorization: `Bearer ${this.rest.token}` } : {},
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      if ((error as { name?: unknown } | null)?.name === 'TimeoutError')
        throw new NessusMcpError('timeout', `the gateway at ${this.endpoint} did not send the report in time`, { cause: error });
      throw errorFromThrown(error, this.endpoint, signal);
    }
    const text = await response.text();
    if (response.ok) return text;
    const body = readErrorBody(parseJson(text));
    if (body) throw body;
    throw new NessusMcpError(
      response.status === 401 ? 'unauthorized' : 'unavailable',
      `the gateway at ${this.endpoint} answered HTTP ${response.status} for the report`,
    );
  }

  // -------------------------------------------------------------------------------------------
  // Across scans

  /** What changed in `taskId` since `baseTaskId` (a task id or "previous"): counts, then one page of findings with their change. */
  async compareScans(taskId: string, baseTaskId: string, query: CompareQuery = {}, options: CallOptions = {}): Promise<DeltaPage> {
    return parseDeltaPage((await this.call('compare_scans', compareArguments(taskId, baseTaskId, query), options)).text);
  }

  /** Occurrences of a CVE, plugin or host across retained scans, newest first. */
  async searchFindings(query: SearchQuery, options: CallOptions = {}): Promise<SearchPage> {
    return parseSearchPage((await this.call('search_findings', searchArguments(query), options)).text);
  }

  // -------------------------------------------------------------------------------------------
  // Tasks, scanners, queue

  listTasks(query: ListTasksQuery = {}, options: CallOptions = {}): Promise<TaskList> {
    return this.callJson('list_tasks', listTasksArguments(query), taskListSchema, options);
  }

  listScanners(scannerPool?: string, options: CallOptions = {}): Promise<ScannerList> {
    return this.callJson('list_scanners', scannerPool === undefined ? {} : { scanner_pool: scannerPool }, scannerListSchema, options);
  }

  getQueueStatus(scannerPool?: string, options: CallOptions = {}): Promise<QueueStatus> {
    return this.callJson('get_queue_status', scannerPool === undefined ? {} : { scanner_pool: scannerPool }, queueStatusSchema, options);
  }

  /** Asks the gateway to stop the scan; the answer carries the task's status after the request. */
  cancel(taskId: string, options: CallOptions = {}): Promise<CancelResult> {
    return this.callJson('cancel_scan', { task_id: taskId }, cancelResultSchema, options);
  }

  // -------------------------------------------------------------------------------------------
  // Transport

  private async call(tool: string, args: ToolArguments, options: CallOptions): Promise<ToolOutput> {
    const { signal } = options;
    if (signal?.aborted) throw abortedError(signal);
    let result: Awaited<ReturnType<Client['callTool']>>;
    try {
      result = await this.mcp.callTool({ name: tool, arguments: args }, undefined, { timeout: this.timeoutMs, ...(signal ? { signal } : {}) });
    } catch (error) {
      throw errorFromThrown(error, this.endpoint, signal);
    }
    const content = Array.isArray(result.content) ? (result.content as unknown[]) : [];
    const texts = content.flatMap((block) =>
      block !== null && typeof block === 'object' && (block as { type?: unknown }).type === 'text' && typeof (block as { text?: unknown }).text === 'string'
        ? [(block as { text: string }).text]
        : [],
    );
    const text = texts.join('\n');
    if (result.isError === true) throw errorFromToolResult(tool, text);
    return { text, structured: result.structuredContent };
  }

  /** Calls a tool that answers one JSON object, preferring `structuredContent` over re-parsing the text. */
  private async callJson<T>(tool: string, args: ToolArguments, schema: z.ZodType<T>, options: CallOptions): Promise<T> {
    const output = await this.call(tool, args, options);
    let value = output.structured;
    if (value === undefined || value === null) {
      try {
        value = JSON.parse(output.text);
      } catch {
        throw new NessusMcpError('invalid_response', `${tool}: the gateway answered text that is not JSON`);
      }
    }
    return parseResponse(schema, value, tool);
  }
}
