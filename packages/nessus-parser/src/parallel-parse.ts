import { StringDecoder } from 'node:string_decoder';
import { Worker } from 'node:worker_threads';
import { DocumentReader } from './document-reader.js';
import type { ReaderEvent } from './document-reader.js';
import { NessusParseError } from './errors.js';
import { EventNumbering } from './event-numbering.js';
import { BlockParser } from './block-parser.js';
import { HostBlockSplitter } from './host-block-splitter.js';
import { PARSE_SLICE_BYTES } from './input-source.js';
import type { Limits } from './sequential-parse.js';
import type { ParseEvent } from './types.js';
import type { BlockPiece, BlockResult } from './worker-protocol.js';

/**
 * Memory bounds. Bytes sent to workers and not yet parsed, and parsed blocks waiting behind a
 * slower block for their turn, are each capped; reading pauses at either cap. Together with the
 * workers' young-generation cap they keep peak RSS on a 1 GiB export at about 160 MB.
 */
const IN_FLIGHT_LIMIT = 4 * 1024 * 1024;
const WAITING_LIMIT = 2 * 1024 * 1024;
/**
 * The main thread parses a block itself when every worker already has this much queued, so the
 * two cores of a small machine both parse (a third thread would only compete with them) and
 * no worker waits for work.
 */
const WORKER_QUEUE_BYTES = 2 * 1024 * 1024;
/** Bytes of a ReportHost sent to a worker per message (a larger host takes several). */
const PIECE_BYTES = 512 * 1024;
/** Input is fed in slices: one huge chunk cannot bypass the caps, and blocks parsed here get small strings. */
const FEED_BYTES = PARSE_SLICE_BYTES;

/** What the skeleton parser sees in place of a ReportHost block handed to a worker. */
const PLACEHOLDER = '<ReportHost/>';

/** `BlockState.worker` of a block parsed on the main thread. */
const MAIN_THREAD = -1;

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

  const localParser = new BlockParser(limits);
  const onResult = (workerIndex: number, result: BlockResult): void => {
    if (workerIndex !== MAIN_THREAD) {
      inFlight -= result.bytes;
      inFlightByWorker[workerIndex]! -= result.bytes;
    }
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
    // A small young generation: the worker's garbage is short-lived (each piece's strings die
    // once posted), and V8's default 48 MB per isolate was a third of peak RSS.
    const worker = new Worker(WORKER_URL, { workerData: limits, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
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

  /** Bytes of the current worker-bound block gathered for its next message. */
  let piece = new Uint8Array(PIECE_BYTES);

  /** Sends what was gathered of the current block: parsed here, or moved to its worker. */
  const sendPiece = (last: boolean, local?: Uint8Array): void => {
    const block = current;
    if (block === null) return;
    const first = pieceIsFirst;
    pieceIsFirst = false;
    const namespaces = first ? skeleton.namespacesInScope() : undefined;
    if (block.worker === MAIN_THREAD) {
      const bytes = local ?? new Uint8Array(0);
      block.bytes += bytes.byteLength;
      onResult(MAIN_THREAD, localParser.handle({ seq: block.seq, bytes, first, last, ...(namespaces ? { namespaces } : {}) }));
      return;
    }
    // The gathered bytes travel in their own buffer, transferred rather than copied.
    const bytes = pieceBytes === piece.byteLength ? piece : piece.slice(0, pieceBytes);
    piece = new Uint8Array(PIECE_BYTES);
    pieceBytes = 0;
    // Read the size first: transferring detaches the buffer, leaving a byteLength of 0.
    const size = bytes.byteLength;
    inFlight += size;
    inFlightByWorker[block.worker]! += size;
    block.bytes += size;
    const message: BlockPiece = { seq: block.seq, bytes, first, last, ...(namespaces ? { namespaces } : {}) };
    workers[block.worker]!.postMessage(message, [bytes.buffer]);
  };

  const splitter = new HostBlockSplitter({
    skeleton(chunk) {
      skeleton.write(skeletonDecoder.write(chunk));
      collectSkeletonEvents();
    },
    blockStart() {
      let worker = 0;
      for (let i = 1; i < workers.length; i++) if (inFlightByWorker[i]! < inFlightByWorker[worker]!) worker = i;
      if (inFlightByWorker[worker]! >= WORKER_QUEUE_BYTES) worker = MAIN_THREAD;
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
      // The splitter's bytes are only valid during this call: parse them now, or copy them.
      if (current?.worker === MAIN_THREAD) {
        sendPiece(false, chunk);
        return;
      }
      let offset = 0;
      while (offset < chunk.byteLength) {
        const take = Math.min(chunk.byteLength - offset, PIECE_BYTES - pieceBytes);
        piece.set(chunk.subarray(offset, offset + take), pieceBytes);
        pieceBytes += take;
        offset += take;
        if (pieceBytes === PIECE_BYTES) sendPiece(false);
      }
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
