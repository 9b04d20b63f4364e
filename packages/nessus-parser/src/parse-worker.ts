/** Worker thread: parses the ReportHost blocks the main thread cuts out of a large export. */
import { TextDecoder } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { DocumentReader } from './document-reader.js';
import { NessusParseError } from './errors.js';
import type { Limits } from './sequential-parse.js';
import type { BlockPiece, BlockResult } from './worker-protocol.js';

interface OpenBlock {
  reader: DocumentReader;
  decoder: TextDecoder;
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
      decoder: new TextDecoder('utf-8'),
      failed: false,
    };
    blocks.set(piece.seq, block);
  }
  const { reader } = block;
  let error: BlockResult['error'] = null;
  if (!block.failed) {
    try {
      reader.write(block.decoder.decode(piece.bytes, { stream: !piece.last }));
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
