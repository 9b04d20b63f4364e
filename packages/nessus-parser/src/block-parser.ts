import { StringDecoder } from 'node:string_decoder';
import { DocumentReader } from './document-reader.js';
import { NessusParseError } from './errors.js';
import type { Limits } from './sequential-parse.js';
import type { BlockPiece, BlockResult } from './worker-protocol.js';

interface OpenBlock {
  reader: DocumentReader;
  decoder: StringDecoder;
  failed: boolean;
}

/** Parses ReportHost blocks piece by piece; runs in a worker thread or on the main thread. */
export class BlockParser {
  private readonly blocks = new Map<number, OpenBlock>();

  constructor(private readonly limits: Limits) {}

  handle(piece: BlockPiece): BlockResult {
    let block = this.blocks.get(piece.seq);
    if (block === undefined || piece.first) {
      const reader = new DocumentReader({ mode: 'block', ...this.limits, ...(piece.namespaces ? { namespaces: piece.namespaces } : {}) });
      block = { reader, decoder: new StringDecoder('utf8'), failed: false };
      this.blocks.set(piece.seq, block);
    }
    const { reader } = block;
    let error: BlockResult['error'] = null;
    if (!block.failed) {
      try {
        reader.write(
          piece.last
            ? block.decoder.end(Buffer.from(piece.bytes.buffer, piece.bytes.byteOffset, piece.bytes.byteLength))
            : block.decoder.write(Buffer.from(piece.bytes.buffer, piece.bytes.byteOffset, piece.bytes.byteLength)),
        );
        if (piece.last) reader.end();
      } catch (thrown) {
        block.failed = true;
        if (!(thrown instanceof NessusParseError)) throw thrown;
        const problem = thrown.line === null ? thrown.message : thrown.message.slice(`line ${thrown.line}: `.length);
        error = { reason: thrown.reason, problem, line: thrown.line };
      }
    }
    if (piece.last) this.blocks.delete(piece.seq);
    return {
      seq: piece.seq,
      events: reader.events.splice(0),
      bytes: piece.bytes.byteLength,
      done: piece.last || error !== null,
      lineBreaks: reader.line - 1,
      truncatedFields: reader.truncatedFields,
      error,
    };
  }
}
