import { splitTargets, toAppError, type AuditAction, type ScanType } from '@nessus-mcp/core';
import type { DeltaPage, ResultPage } from '@nessus-mcp/results';
import type {
  CompareScansInput,
  FindingInput,
  ListTasksInput,
  PoolFilterInput,
  ScanInput,
  ScanResultsInput,
  SearchFindingsInput,
  SummarizeInput,
} from '../schemas/tool-inputs.js';
import type {
  FindingOutput,
  QueueStatusOutput,
  ScannersOutput,
  SubmitScanOutput,
  SummaryOutput,
  TaskListOutput,
  TaskViewOutput,
} from '../schemas/tool-outputs.js';
import { cancelScan } from './cancel-scan.js';
import { compareScans } from './compare-scans.js';
import { getFinding } from './get-finding.js';
import { listScanners } from './list-scanners.js';
import { listTasks } from './list-tasks.js';
import { getQueueStatus } from './queue-status.js';
import { checkReadiness, type ReadinessReport } from './readiness.js';
import { getScanResults, openReport, type ReportDownload } from './scan-results.js';
import { getScanStatus } from './scan-status.js';
import { searchFindings, type SearchPage } from './search-findings.js';
import type { CallContext, ServiceContext } from './service-context.js';
import { submitScan } from './submit-scan.js';
import { summarizeFindings } from './summarize-findings.js';
import { renderTaskReport } from './task-report.js';

/**
 * The one service layer. MCP tools, REST routes and the stdio server call these and nothing
 * else, so validation, errors and behaviour cannot differ between transports.
 */
export interface GatewayServices {
  readonly context: ServiceContext;
  submitScan(scanType: ScanType, input: ScanInput, call: CallContext): Promise<SubmitScanOutput>;
  getScanStatus(taskId: string, call: CallContext): Promise<TaskViewOutput>;
  getScanResults(input: ScanResultsInput): Promise<ResultPage>;
  openReport(taskId: string): Promise<ReportDownload>;
  summarizeFindings(input: SummarizeInput): Promise<SummaryOutput>;
  getFinding(input: FindingInput): Promise<FindingOutput>;
  /** The results as one self-contained HTML page. */
  renderTaskReport(taskId: string): Promise<string>;
  listTasks(input: ListTasksInput): Promise<TaskListOutput>;
  listScanners(input: PoolFilterInput): Promise<ScannersOutput>;
  getQueueStatus(input: PoolFilterInput): Promise<QueueStatusOutput>;
  cancelScan(taskId: string, call: CallContext): Promise<TaskViewOutput>;
  checkReadiness(): Promise<ReadinessReport>;
  compareScans(input: CompareScansInput): Promise<DeltaPage>;
  searchFindings(input: SearchFindingsInput): Promise<SearchPage>;
}

/** At most this many target tokens go into one audit record; the task record keeps them all. */
const AUDIT_MAX_TARGETS = 100;

function targetsForAudit(targets: unknown): string[] | null {
  if (typeof targets !== 'string' && !Array.isArray(targets)) return null;
  try {
    return splitTargets(targets as string | string[]).slice(0, AUDIT_MAX_TARGETS);
  } catch {
    return null;
  }
}

/**
 * Runs a scan submission or cancel and appends its audit record, refused or not. The record is
 * written after the answer is known; if Redis refuses the write, the caller still gets that answer.
 */
async function audited<T extends { task_id: string | null }>(
  context: ServiceContext,
  call: CallContext,
  action: AuditAction,
  subject: { task_id: string | null; targets: unknown },
  run: () => Promise<T>,
  detail?: (result: T) => string | null,
): Promise<T> {
  const write = (outcome: string, taskId: string | null, text: string | null): Promise<void> =>
    context.audit.record({ client: call.principal.name, action, task_id: taskId, targets: targetsForAudit(subject.targets), outcome, detail: text }).then(
      () => undefined,
      (error: unknown) => call.logger.warn({ err: String(error) }, 'audit record not written'),
    );
  try {
    const result = await run();
    await write('ok', result.task_id, detail?.(result) ?? null);
    return result;
  } catch (thrown) {
    const error = toAppError(thrown);
    await write(error.code, subject.task_id, error.code === 'internal' ? null : error.message.slice(0, 300));
    throw thrown;
  }
}

export function createGatewayServices(context: ServiceContext): GatewayServices {
  return {
    context,
    submitScan: (scanType, input, call) =>
      // A dry run changes nothing and is not an action worth a record.
      input.dry_run === true
        ? submitScan(context, scanType, input, call)
        : audited(
            context,
            call,
            'scan.submit',
            { task_id: null, targets: input.targets },
            () => submitScan(context, scanType, input, call),
            (result) => (result.idempotent_replay ? 'idempotent replay of an earlier submission' : `${scanType} scan queued`),
          ),
    getScanStatus: (taskId, call) => getScanStatus(context, taskId, call),
    getScanResults: (input) => getScanResults(context, input),
    openReport: (taskId) => openReport(context, taskId),
    summarizeFindings: (input) => summarizeFindings(context, input),
    getFinding: (input) => getFinding(context, input),
    renderTaskReport: (taskId) => renderTaskReport(context, taskId),
    listTasks: (input) => listTasks(context, input),
    listScanners: (input) => listScanners(context, input),
    getQueueStatus: (input) => getQueueStatus(context, input),
    cancelScan: (taskId, call) => audited(context, call, 'scan.cancel', { task_id: taskId, targets: null }, () => cancelScan(context, taskId, call)),
    checkReadiness: () => checkReadiness(context),
    compareScans: (input) => compareScans(context, input),
    searchFindings: (input) => searchFindings(context, input),
  };
}
