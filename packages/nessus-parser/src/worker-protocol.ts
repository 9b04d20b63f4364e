import type { ReaderEvent } from './document-reader.js';
import type { ParseFailureReason } from './errors.js';

/** Main thread → worker: a piece of one ReportHost block (blocks may arrive in several pieces). */
export interface BlockPiece {
  seq: number;
  bytes: Uint8Array;
  first: boolean;
  last: boolean;
  /** Namespace prefixes in scope where the block starts (first piece only). */
  namespaces?: Record<string, string>;
}

/** Worker → main thread: what one piece produced. */
export interface BlockResult {
  seq: number;
  events: ReaderEvent[];
  /** Bytes of the piece, acknowledged so the main thread can send more. */
  bytes: number;
  done: boolean;
  /** Line breaks in the whole block (when done), to place later blocks' errors. */
  lineBreaks: number;
  truncatedFields: number;
  error: { reason: ParseFailureReason; problem: string; line: number | null } | null;
}
