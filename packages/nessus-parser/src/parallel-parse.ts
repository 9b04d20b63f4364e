import { StringDecoder } from 'node:string_decoder';
import { Worker } from 'node:worker_threads';
import { DocumentReader } from './document-reader.js';
import type { ReaderEvent } from './document-reader.js';
import { NessusParseError } from './errors.js';
import { EventNumbering } from './event-numbering.js';
import { HostBlockSplitter } from './host-block-splitter.js';
import type { Limits } from './sequential-parse.js';
import type { ParseEvent } from './types.js';
import type { BlockPiece, BlockResult } from './worker-protocol.js';

/**
 * Memory bounds. Bytes sent to workers and not yet parsed, and parsed blocks waiting behind a
 * slower block for their turn, are each capped; reading pauses at either cap. Measured peak RSS
 * on a 1 GiB export stays under 200 MB with these values.
 */
const IN_FLIGHT_LIMIT = 16 * 1024 * 1024;
const WAITING_LIMIT = 32 * 1024 * 1024;
/** A ReportHost larger than this is streamed to its worker in pieces of this size. */
const PIECE_BYTES = 1024 * 1024;
/** Input chunks are fed in slices so one huge chunk cannot bypass the caps. */
const FEED_BYTES = 1024 * 1024;

/** What the skeleton parser sees in place of a ReportHost block handed to a worker. */
const PLACEHOLDER = '<ReportHost/>';

interface BlockState {
  seq: number;
  worker: number;
  bytes: number;
  /** Line of the skeleton (placeholders count zero lines) where the block starts. */
  skeletonLine: number;
  events: ReaderEvent[];
  done: boolean;
  lineBreaks: number;
  truncatedFields: number;
  error: BlockResult['error'];
}

type Slot = { kind: 'events'; events: ReaderEvent[] } | { kind: 'block'; block: BlockState };

const WORKER_URL = new URL('./parse-worker.js', import.meta.url);

/**
 * The main thread cuts the file at ReportHost boundaries and checks everything between the
 * blocks; workers parse the blocks. Events come out in document order, identical to reading the
 * file on one thread, including where and how an error is reported.
 */
export async function* parseParallel(bytes: AsyncIterable<Uint8Array>, limits: Limits, workerCount: number): AsyncGenerator<ParseEvent> {
  const workers: Worker[] = [];
  const inFlightByWorker: number[] = [];
  const blocks = new Map<number, BlockState>();
  const slots: Slot[] = [];
  const skeleton = new DocumentReader({ mode: 'skeleton', ...limits });
  const skeletonDecoder = new StringDecoder('utf8');
  const numbering = new EventNumbering();
  let inFlight = 0;
  let waiting = 0;
  let nextSeq = 0;
  let current: BlockState | null = null;
  let pieceParts: Uint8Array[] = [];
  let pieceBytes = 0;
  let pieceIsFirst = true;
  let skeletonFailure: unknown = null;
  let workerFailure: unknown = null;
  let wake: (() => void) | null = null;
  let woken = false;

  const signal = (): void => {
    woken = true;
    const resolve = wake;
    wake = null;
    resolve?.();
  };
  const nextSignal = (): Promise<void> => {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      wake = () => {
        woken = false;
        resolve();
      };
    });
  };

  const onResult = (workerIndex: number, result: BlockResult): void => {
    inFlight -= result.bytes;
    inFlightByWorker[workerIndex]! -= result.bytes;
    const block = blocks.get(result.seq);
    if (block !== undefined && !block.done) {
      for (const event of result.events) block.events.push(event);
      block.lineBreaks = result.lineBreaks;
      block.truncatedFields = result.truncatedFields;
      if (result.done) {
        block.done = true;
        block.error = result.error;
        waiting += block.bytes;
      }
    }
    signal();
  };

  for (let i = 0; i < workerCount; i++) {
    const worker = new Worker(WORKER_URL, { workerData: limits });
    worker.on('message', (result: BlockResult) => onResult(i, result));
    worker.on('error', (error) => {
      workerFailure ??= error;
      signal();
    });
    worker.on('exit', (code) => {
      if (code !== 0) workerFailure ??= new Error(`parser worker exited with code ${code}`);
      signal();
    });
    workers.push(worker);
    inFlightByWorker.push(0);
  }

  const collectSkeletonEvents = (): void => {
    if (skeleton.events.length > 0) slots.push({ kind: 'events', events: skeleton.events.splice(0) });
  };

  const sendPiece = (last: boolean): void => {
    const block = current;
    if (block === null) return;
    // A fresh buffer of its own, so it can be transferred rather than copied.
    const piece = new Uint8Array(pieceBytes);
    let offset = 0;
    for (const part of pieceParts) {
      piece.set(part, offset);
      offset += part.byteLength;
    }
    const message: BlockPiece = { seq: block.seq, bytes: piece, first: pieceIsFirst, last };
    if (pieceIsFirst) message.namespaces = skeleton.namespacesInScope();
    workers[block.worker]!.postMessage(message, [piece.buffer]);
    inFlight += pieceBytes;
    inFlightByWorker[block.worker]! += pieceBytes;
    block.bytes += pieceBytes;
    pieceParts = [];
    pieceBytes = 0;
    pieceIsFirst = false;
  };

  const splitter = new HostBlockSplitter({
    skeleton(chunk) {
      skeleton.write(skeletonDecoder.write(chunk));
      collectSkeletonEvents();
    },
    blockStart() {
      let worker = 0;
      for (let i = 1; i < workers.length; i++) if (inFlightByWorker[i]! < inFlightByWorker[worker]!) worker = i;
      const block: BlockState = {
        seq: nextSeq++,
        worker,
        bytes: 0,
        skeletonLine: skeleton.line,
        events: [],
        done: false,
        lineBreaks: 0,
        truncatedFields: 0,
        error: null,
      };
      blocks.set(block.seq, block);
      slots.push({ kind: 'block', block });
      current = block;
      pieceIsFirst = true;
    },
    blockData(chunk) {
      // A view, not a copy: pieces are sent before `feed` returns, while the bytes are intact.
      pieceParts.push(chunk);
      pieceBytes += chunk.byteLength;
      if (pieceBytes >= PIECE_BYTES) sendPiece(false);
    },
    blockEnd() {
      sendPiece(true);
      current = null;
      skeleton.write(PLACEHOLDER);
      collectSkeletonEvents();
    },
  });

  const feed = (chunk: Uint8Array): void => {
    try {
      splitter.push(chunk);
      // Keep a large ReportHost moving to its worker rather than waiting for its end.
      if (current !== null && pieceBytes > 0 && splitter.insideBlock) sendPiece(false);
    } catch (error) {
      skeletonFailure = error;
      collectSkeletonEvents();
    }
  };

  const finishInput = (): void => {
    try {
      splitter.finish();
      if (current !== null) {
        // The file ended inside a ReportHost: its worker reports the unclosed element.
        sendPiece(true);
        current = null;
      }
      skeleton.write(skeletonDecoder.end());
      skeleton.end();
    } catch (error) {
      skeletonFailure = error;
    }
    collectSkeletonEvents();
  };

  const source = bytes[Symbol.asyncIterator]();
  let pendingChunk: Uint8Array | null = null;
  let inputDone = false;
  /** Line breaks inside blocks already handed out: turns skeleton lines into file lines. */
  let blockLineBreaks = 0;
  let blockTruncatedFields = 0;

  try {
    for (;;) {
      while (slots.length > 0) {
        const slot = slots[0]!;
        if (slot.kind === 'events') {
          for (const event of slot.events) yield numbering.number(event);
          slots.shift();
          continue;
        }
        const block = slot.block;
        // Results keep arriving while the consumer holds a yielded event: drain until empty,
        // then decide on `done` with no await in between.
        for (let ready = block.events.splice(0); ready.length > 0; ready = block.events.splice(0)) {
          for (const event of ready) yield numbering.number(event);
        }
        if (!block.done) break;
        if (block.error !== null) {
          const { reason, problem, line } = block.error;
          throw new NessusParseError(reason, problem, line === null ? null : block.skeletonLine + blockLineBreaks + line - 1);
        }
        blockLineBreaks += block.lineBreaks;
        blockTruncatedFields += block.truncatedFields;
        waiting -= block.bytes;
        blocks.delete(block.seq);
        slots.shift();
      }
      if (workerFailure !== null) throw workerFailure;
      if (skeletonFailure !== null && slots.length === 0) {
        throw skeletonFailure instanceof NessusParseError ? skeletonFailure.shifted(blockLineBreaks) : skeletonFailure;
      }
      if (inputDone && slots.length === 0) break;
      const canRead = !inputDone && skeletonFailure === null && inFlight < IN_FLIGHT_LIMIT && waiting < WAITING_LIMIT;
      if (canRead) {
        if (pendingChunk === null) {
          const next = await source.next();
          if (next.done === true) {
            finishInput();
            inputDone = true;
            continue;
          }
          pendingChunk = next.value;
        }
        const slice: Uint8Array = pendingChunk.byteLength > FEED_BYTES ? pendingChunk.subarray(0, FEED_BYTES) : pendingChunk;
        pendingChunk = slice === pendingChunk ? null : pendingChunk.subarray(FEED_BYTES);
        feed(slice);
        continue;
      }
      await nextSignal();
    }
    yield { type: 'end', summary: numbering.summary(skeleton.truncatedFields + blockTruncatedFields) };
  } finally {
    await source.return?.();
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}
