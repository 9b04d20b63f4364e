/** Worker thread: parses the ReportHost blocks the main thread cuts out of a large export. */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockParser } from './block-parser.js';
import type { Limits } from './sequential-parse.js';
import type { BlockPiece } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker must run as a worker thread');
const parser = new BlockParser(workerData as Limits);
port.on('message', (piece: BlockPiece) => port.postMessage(parser.handle(piece)));
