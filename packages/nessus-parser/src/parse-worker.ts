/** Worker thread: parses the ReportHost blocks the main thread cuts out of a large export. */
import { StringDecoder } from 'node:string_decoder';
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentReader } from './document-reader.js';
import { NessusParseError } from './errors.js';
import type { Limits } from './sequential-parse.js';
import type { BlockPiece, BlockResult } from './worker-protocol.js';

interface OpenBlock {
  reader: DocumentReader;
  decoder: StringDecoder;
  failed: boolean;
}

const limits = workerData as Limits;
const port = parentPort;
if (port === null) throw new Error('parse-worker must run as a worker thread');
const blocks = new Map<number, OpenBlock>();

port.on('message', (piece: BlockPiece) => {
  let block = blocks.get(piece.seq);
  if (block === undefined || piece.first) {
    block = {
      reader: new DocumentReader({ mode: 'block', ...limits, ...(piece.namespaces ? { namespaces: piece.namespaces } : {}) }),
      decoder: new StringDecoder('utf8'),
      failed: false,
    };
    blocks.set(piece.seq, block);
  }
  const { reader } = block;
  let error: BlockResult['error'] = null;
  if (!block.failed) {
    try {
      reader.write(piece.last ? block.decoder.end(piece.bytes) : block.decoder.write(piece.bytes));
      if (piece.last) reader.end();
    } catch (thrown) {
      block.failed = true;
      if (!(thrown instanceof NessusParseError)) throw thrown;
      const problem = thrown.line === null ? thrown.message : thrown.message.slice(`line ${thrown.line}: `.length);
      error = { reason: thrown.reason, problem, line: thrown.line };
    }
  }
  const done = piece.last || error !== null;
  const result: BlockResult = {
    seq: piece.seq,
    events: reader.events.splice(0),
    bytes: piece.bytes.byteLength,
    done,
    lineBreaks: reader.line - 1,
    truncatedFields: reader.truncatedFields,
    error,
  };
  if (piece.last) blocks.delete(piece.seq);
  port.postMessage(result);
});
