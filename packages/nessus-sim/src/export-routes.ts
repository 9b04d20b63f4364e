import type { ServerResponse } from 'node:http';
import type { ExportDocument } from './export-builder.js';
import { exportByteLength, streamExport } from './export-builder.js';
import { FILE_NOT_FOUND, isRecord, NessusHttpError, sendJson } from './http-replies.js';
import type { Router } from './router.js';
import { advanceRun, finishedHostCount, isTerminal } from './scan-state.js';
import { SCAN_NOT_FOUND } from './scan-routes.js';
import type { ExportRecord, SimulatorState } from './simulator-state.js';

type ExportStatus = 'loading' | 'ready' | 'error';

/** The export status answer `500 {"status":"error"}`, which has no `error` key. */
class ExportFailed extends Error {}

/**
 * Export status as clients see it: `ok` answers `loading` to the first poll and `ready` after,
 * so every client exercises its poll loop once; `stuck` stays `loading`; `error` fails.
 * `error_500_then_404` answers 500 `{"status":"error"}` once and 404 after (seccubus#371,
 * #458); `lost` answers 404 from the first poll (Nessus Manager with linked scanners,
 * seccubus#590, #603).
 */
function pollStatus(record: ExportRecord): ExportStatus {
  if (record.mode === 'lost') throw new NessusHttpError(404, FILE_NOT_FOUND);
  if (record.mode === 'error_500_then_404') {
    record.statusPolls += 1;
    if (record.statusPolls > 1) throw new NessusHttpError(404, FILE_NOT_FOUND);
    throw new ExportFailed();
  }
  if (record.mode === 'error') return 'error';
  if (record.mode === 'stuck') return 'loading';
  record.statusPolls += 1;
  return record.statusPolls > 1 ? 'ready' : 'loading';
}

function isReady(record: ExportRecord): boolean {
  return record.mode === 'ok' && record.statusPolls > 1;
}

function exportDocument(state: SimulatorState, record: ExportRecord): ExportDocument {
  const scan = state.scans.get(record.scanId);
  const run = scan?.runs.find((candidate) => candidate.historyId === record.historyId);
  if (!scan || !run) throw new NessusHttpError(404, FILE_NOT_FOUND);
  const now = state.clock();
  advanceRun(run, now);
  return {
    scanName: scan.name,
    policyName: scan.policyName,
    targetTokens: run.targets.tokens,
    hosts: run.targets.hosts.slice(0, finishedHostCount(run, now)),
    runHostCount: run.targets.hosts.length,
    startedAtMs: run.startedAtMs ?? run.launchedAtMs,
    durationMs: run.durationMs,
    credentials: scan.credentials,
    hostRuns: run.hostRuns,
    drift: run.drift,
  };
}

async function download(state: SimulatorState, record: ExportRecord, res: ServerResponse): Promise<void> {
  // B.3.10: repeat downloads are allowed; `expired` plays the "file is gone" case.
  if (state.faults.download_mode === 'expired' || record.mode !== 'ok') throw new NessusHttpError(404, FILE_NOT_FOUND);
  if (!isReady(record)) throw new NessusHttpError(409, 'The requested file is not ready yet; poll its status until "ready"');
  const doc = exportDocument(state, record);
  const length = exportByteLength(doc, state.templates);
  const fileName = `${doc.scanName.replace(/[^\w.-]+/g, '_')}_${record.file}.nessus`;
  res.writeHead(200, {
    'Content-Type': 'application/octet-stream',
    'Content-Disposition': `attachment; filename="${fileName}"`,
    // `chunked`: no Content-Length, as a server streaming the file as it writes it would send.
    ...(state.faults.download_mode === 'chunked' ? {} : { 'Content-Length': length }),
    'Cache-Control': 'no-cache',
  });
  const mode = state.faults.download_mode;
  await streamExport(res, doc, state.templates, mode === 'slow' || mode === 'truncated' ? mode : 'ok', length);
}

/** Export, status and download by scan + file id, and the `/tokens/{token}` variants (B.3.10). */
export function registerExportRoutes(router: Router, state: SimulatorState): void {
  const byFile = (scanId: string | undefined, file: string | undefined): ExportRecord => {
    const record = state.exports.get(Number(file));
    if (!record || String(record.scanId) !== scanId || !state.scans.has(record.scanId)) {
      throw new NessusHttpError(404, FILE_NOT_FOUND);
    }
    return record;
  };
  const byToken = (token: string | undefined): ExportRecord => {
    for (const record of state.exports.values()) {
      if (record.token === token && state.scans.has(record.scanId)) return record;
    }
    throw new NessusHttpError(404, FILE_NOT_FOUND);
  };

  router.add({
    method: 'POST',
    path: '/scans/:id/export',
    auth: true,
    licenceGated: false,
    handler: ({ res, params, query, body }) => {
      const scan = state.scans.get(Number(params['id']));
      if (!scan) throw new NessusHttpError(404, SCAN_NOT_FOUND);
      const format = isRecord(body) ? body['format'] : undefined;
      if (format !== 'nessus') {
        throw new NessusHttpError(400, `Invalid 'format': the simulator exports "nessus" only; got ${JSON.stringify(format ?? null)}`);
      }
      const historyParam = query.get('history_id');
      const run = historyParam === null ? state.latestRun(scan) : scan.runs.find((candidate) => String(candidate.historyId) === historyParam);
      if (historyParam !== null && !run) throw new NessusHttpError(404, 'The requested history was not found');
      if (!run) throw new NessusHttpError(409, 'Scan has no results to export');
      advanceRun(run, state.clock());
      // Observed on Nessus 6 (nessrest#116).
      if (!isTerminal(run.status)) throw new NessusHttpError(409, 'Can not export running scans');
      const { file, token } = state.allocateExportFile();
      state.exports.set(file, {
        file,
        token,
        scanId: scan.id,
        historyId: run.historyId,
        mode: state.faults.export_mode,
        statusPolls: 0,
      });
      sendJson(res, 200, { token, file });
    },
  });

  router.add({
    method: 'GET',
    path: '/scans/:id/export/:file/status',
    auth: true,
    licenceGated: false,
    handler: ({ res, params }) => {
      try {
        sendJson(res, 200, { status: pollStatus(byFile(params['id'], params['file'])) });
      } catch (error) {
        if (!(error instanceof ExportFailed)) throw error;
        sendJson(res, 500, { status: 'error' });
      }
    },
  });

  router.add({
    method: 'GET',
    path: '/scans/:id/export/:file/download',
    auth: true,
    licenceGated: false,
    handler: ({ res, params }) => download(state, byFile(params['id'], params['file']), res),
  });

  router.add({
    method: 'GET',
    path: '/tokens/:token/status',
    auth: true,
    licenceGated: false,
    handler: ({ res, params }) => {
      let status: ExportStatus;
      try {
        status = pollStatus(byToken(params['token']));
      } catch (error) {
        if (!(error instanceof ExportFailed)) throw error;
        return sendJson(res, 500, { status: 'error' });
      }
      const message = { loading: 'The download is being prepared.', ready: 'The download is ready.', error: 'Export failed.' };
      sendJson(res, 200, { status, message: message[status] });
    },
  });

  router.add({
    method: 'GET',
    path: '/tokens/:token/download',
    auth: true,
    licenceGated: false,
    handler: ({ res, params }) => download(state, byToken(params['token']), res),
  });
}
