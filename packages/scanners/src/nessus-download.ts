import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Response } from 'got';
import { AppError, isStorageFailure, storageFailure } from '@nessus-mcp/core/errors';
import { type CallContext, httpError, transportError } from './nessus-errors.js';
import { abortReason, expandRoute, MAX_ERROR_BODY, type NessusHttp } from './nessus-http.js';
import type { ExportOptions } from './scanner.js';

const PROGRESS_STEP_BYTES = 1024 * 1024;

export interface DownloadRequest {
  route: string;
  params: Record<string, string>;
  destPath: string;
  /** A download fails when no byte arrives for this long. */
  idleTimeoutMs: number;
}

async function readSmall(stream: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY) break;
    }
  } catch {
    // A 412 may close the socket before its body (§B.2); the status alone decides.
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, MAX_ERROR_BODY).toString('utf8');
}

/**
 * Streams a download to a temp file beside `destPath`, then renames it: memory stays flat
 * (exports of 300–900 MB exist, §B.3.10) and a reader never sees a partial report.
 */
export async function downloadToFile(http: NessusHttp, request: DownloadRequest, options: ExportOptions, mayRelogin = true): Promise<number> {
  const { route, params, destPath } = request;
  const { signal } = options;
  const instanceId = http.instanceId;
  const ctx: CallContext = { instanceId, method: 'GET', route };
  const url = http.baseUrl + expandRoute(route, params);
  const headers = await http.authHeaders(signal);
  const started = performance.now();
  const stream = http.got.stream(url, {
    headers,
    ...(signal ? { signal } : {}),
    // No total timeout: a large download legitimately takes minutes. Fail when it stalls.
    timeout: { response: http.timeoutMs, socket: request.idleTimeoutMs },
  });
  let response: Response;
  try {
    response = await new Promise<Response>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('error', reject);
    });
  } catch (error) {
    http.emit(ctx, 0, started);
    if (signal?.aborted) throw abortReason(signal);
    throw transportError(ctx, error, http.redactor);
  }
  const status = response.statusCode;
  if (status !== 200) {
    const text = await readSmall(stream);
    http.emit(ctx, status, started);
    if (status === 401 && mayRelogin && http.usesSession) {
      http.dropToken(headers);
      return downloadToFile(http, request, options, false);
    }
    throw httpError(ctx, status, text, http.redactor);
  }
  const header = response.headers['content-length'];
  const totalBytes = header === undefined ? undefined : Number(header);
  if (totalBytes !== undefined && options.freeBytes !== undefined && totalBytes > options.freeBytes) {
    stream.destroy();
    http.emit(ctx, status, started);
    const mb = (n: number): string => (n / 1048576).toFixed(1);
    throw new AppError(
      'internal',
      `The export is ${mb(totalBytes)} MB but only ${mb(options.freeBytes)} MB are free under the data directory (DATA_DIR); the download was not started. Free disk space, then retry the task from the failed set.`,
      {
        retryable: true,
        details: { reason: 'disk_full', export_bytes: totalBytes, free_bytes: options.freeBytes },
      },
    );
  }
  const tmp = join(dirname(destPath), `.${basename(destPath)}.${randomUUID()}.part`);
  let bytes = 0;
  let reported = 0;
  const { maxBytes, onProgress } = options;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      if (maxBytes !== undefined && bytes > maxBytes) {
        callback(new AppError('payload_too_large', `the export is larger than the allowed ${maxBytes} bytes`, { details: { max_bytes: maxBytes } }));
        return;
      }
      if (onProgress && bytes - reported >= PROGRESS_STEP_BYTES) {
        reported = bytes;
        onProgress({ phase: 'downloading', bytes, ...(totalBytes !== undefined ? { totalBytes } : {}) });
      }
      callback(null, chunk);
    },
  });
  // A failure to write the file here (a full DATA_DIR) is ours, not the scanner's: it must not
  // be reported as "could not reach Nessus", which sends people to debug the wrong machine.
  let localFailure: unknown = null;
  const file = createWriteStream(tmp, { flags: 'wx' });
  file.once('error', (error) => {
    localFailure ??= error;
  });
  try {
    await pipeline(stream, counter, file);
    if (totalBytes !== undefined && bytes !== totalBytes) {
      throw new AppError('scanner_error', `the export download from '${instanceId}' ended after ${bytes} of ${totalBytes} bytes`, {
        retryable: true,
        details: { instance_id: instanceId, route, bytes, expected_bytes: totalBytes },
      });
    }
    if (bytes === 0) {
      throw new AppError('scanner_error', `the export download from '${instanceId}' was empty`, {
        retryable: true,
        details: { instance_id: instanceId, route },
      });
    }
    await rename(tmp, destPath).catch((error: unknown) => {
      localFailure ??= error;
      throw error;
    });
  } catch (error) {
    // The file may still be opening when the download fails first (the stream opens it
    // asynchronously): removed before that open lands, it would be created after its removal.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    await rm(tmp, { force: true });
    if (signal?.aborted) {
      http.emit(ctx, 0, started);
      throw abortReason(signal);
    }
    if (isStorageFailure(localFailure)) {
      http.emit(ctx, status, started);
      throw storageFailure(localFailure, `save the export of scan ${params['id'] ?? '?'} from '${instanceId}'`);
    }
    http.emit(ctx, 0, started);
    if (bytes > 0 && !(error instanceof AppError)) {
      // Nessus answered and the body broke off: "could not reach" would be the wrong story.
      const reason = http.redactor.redact(error instanceof Error ? error.message : String(error));
      throw new AppError(
        'scanner_error',
        `the export download from '${instanceId}' broke off after ${bytes}${totalBytes === undefined ? '' : ` of ${totalBytes}`} bytes (${reason}); a new export may succeed.`,
        {
          retryable: true,
          cause: error,
          details: { instance_id: instanceId, route, bytes, ...(totalBytes === undefined ? {} : { expected_bytes: totalBytes }) },
        },
      );
    }
    throw transportError(ctx, error, http.redactor);
  }
  http.emit(ctx, 200, started);
  onProgress?.({ phase: 'done', bytes, ...(totalBytes !== undefined ? { totalBytes } : {}) });
  return bytes;
}
