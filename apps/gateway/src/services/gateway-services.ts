import type { ScanType } from '@nessus-mcp/core';
import type { DeltaPage, ResultPage } from '@nessus-mcp/results';
import type { CompareScansInput, FindingInput, ListTasksInput, PoolFilterInput, ScanInput, ScanResultsInput, SearchFindingsInput, SummarizeInput } from '../schemas/tool-inputs.js';
import type { FindingOutput, QueueStatusOutput, ScannersOutput, SubmitScanOutput, SummaryOutput, TaskListOutput, TaskViewOutput } from '../schemas/tool-outputs.js';
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

export function createGatewayServices(context: ServiceContext): GatewayServices {
  return {
    context,
    submitScan: (scanType, input, call) => submitScan(context, scanType, input, call),
    getScanStatus: (taskId, call) => getScanStatus(context, taskId, call),
    getScanResults: (input) => getScanResults(context, input),
    openReport: (taskId) => openReport(context, taskId),
    summarizeFindings: (input) => summarizeFindings(context, input),
    getFinding: (input) => getFinding(context, input),
    renderTaskReport: (taskId) => renderTaskReport(context, taskId),
    listTasks: (input) => listTasks(context, input),
    listScanners: (input) => listScanners(context, input),
    getQueueStatus: (input) => getQueueStatus(context, input),
    cancelScan: (taskId, call) => cancelScan(context, taskId, call),
    checkReadiness: () => checkReadiness(context),
    compareScans: (input) => compareScans(context, input),
    searchFindings: (input) => searchFindings(context, input),
  };
}
