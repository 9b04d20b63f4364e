import type { IncomingMessage, ServerResponse } from 'node:http';

/** An API answer with Nessus' error shape `{"error": "<message>"}` (docs/nessus-api.md §B.0). */
export class NessusHttpError extends Error {
  override readonly name = 'NessusHttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const FILE_NOT_FOUND = 'The requested file was not found';
export const METHOD_NOT_ALLOWED = 'The requested method is not allowed for this URL';

const MAX_BODY_BYTES = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache',
  });
  res.end(text);
}

/** stop/pause/resume/delete answer 200 with no body on real servers (B.3.9). */
export function sendEmpty(res: ServerResponse, status = 200): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

/** Reads the whole request body (bounded); used before answering so no unread bytes trigger a TCP RST. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new NessusHttpError(413, 'Request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new NessusHttpError(400, 'Invalid JSON in request body');
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
