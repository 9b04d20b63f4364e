import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '@nessus-mcp/core/errors';

/**
 * What a page cursor says: which listing it continues (`kind`, e.g. `results`; another tool
 * uses its own kind so cursors cannot cross tools), for what (`scope`, e.g. the task id),
 * over which ingested store (`store`, the manifest's store_id: a re-ingest invalidates it),
 * the page it asks for, and the query it belongs to (whatever the tool needs to rebuild it).
 */
export interface PageCursor {
  kind: string;
  scope: string;
  store: string;
  page: number;
  query: Record<string, unknown>;
}

const VERSION = 1;
/** 128 bits of HMAC-SHA256: forging one is out of reach, and the cursor stays short. */
const MAC_BYTES = 16;
/** A cursor longer than this was not issued here (the query parameters are bounded well below it). */
export const MAX_CURSOR_LENGTH = 16_384;

function invalidCursor(message: string): AppError {
  return new AppError('invalid_argument', `cursor: ${message}`, { details: { field: 'cursor' } });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Issues and checks page cursors: base64url JSON, a dot, and an HMAC of that text under a
 * server-side key. The payload is readable (nothing secret in it) but cannot be changed: a
 * tampered or garbled cursor is `invalid_argument`, never a different query.
 */
export class CursorCodec {
  private readonly key: Buffer;

  /** `secret` is any server-side key (≥ 16 bytes); a purpose-bound key is derived from it. */
  constructor(secret: Uint8Array) {
    if (secret.byteLength < 16) throw new Error('CursorCodec: the secret must be at least 16 bytes');
    this.key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'nessus-mcp page cursor v1', 32));
  }

  /** A codec with a random key: its cursors only work in this process (tests, tools without a configured key). */
  static ephemeral(): CursorCodec {
    return new CursorCodec(randomBytes(32));
  }

  encode(cursor: PageCursor): string {
    const body = Buffer.from(JSON.stringify({ v: VERSION, k: cursor.kind, t: cursor.scope, s: cursor.store, p: cursor.page, q: cursor.query })).toString(
      'base64url',
    );
    return `${body}.${this.mac(body).toString('base64url')}`;
  }

  /** The cursor's content, after checking its signature and that it continues a listing of `kind`. */
  decode(token: string, kind: string): PageCursor {
    if (typeof token !== 'string' || token.length === 0 || token.length > MAX_CURSOR_LENGTH) throw invalidCursor('not a cursor issued by this server');
    const dot = token.indexOf('.');
    const body = token.slice(0, dot);
    const given = Buffer.from(token.slice(dot + 1), 'base64url');
    const expected = this.mac(body);
    if (dot <= 0 || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw invalidCursor(
        'not a cursor issued by this server (it was changed, cut or comes from another server); pass the cursor exactly as the pagination line gave it',
      );
    }
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    } catch {
      throw invalidCursor('unreadable');
    }
    if (
      !isRecord(payload) ||
      payload.v !== VERSION ||
      typeof payload.k !== 'string' ||
      typeof payload.t !== 'string' ||
      typeof payload.s !== 'string' ||
      typeof payload.p !== 'number' ||
      !Number.isInteger(payload.p) ||
      payload.p < 1 ||
      !isRecord(payload.q)
    ) {
      throw invalidCursor('unreadable');
    }
    if (payload.k !== kind) throw invalidCursor(`it continues a ${payload.k} listing, not ${kind}`);
    return { kind: payload.k, scope: payload.t, store: payload.s, page: payload.p, query: payload.q };
  }

  private mac(body: string): Buffer {
    return createHmac('sha256', this.key).update(body).digest().subarray(0, MAC_BYTES);
  }
}
