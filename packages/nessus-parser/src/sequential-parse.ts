import { StringDecoder } from 'node:string_decoder';
import { DocumentReader } from './document-reader.js';
import { EventNumbering } from './event-numbering.js';
import { PARSE_SLICE_BYTES } from './input-source.js';
import type { ParseEvent } from './types.js';

export interface Limits {
  maxFieldBytes: number;
  maxDepth: number;
}

/** Reads the whole document on the calling thread. */
export async function* parseSequential(bytes: AsyncIterable<Uint8Array>, limits: Limits): AsyncGenerator<ParseEvent> {
  const reader = new DocumentReader({ mode: 'document', ...limits });
  const numbering = new EventNumbering();
  const decoder = new StringDecoder('utf8');
  const drain = function* (): Generator<ParseEvent> {
    const events = reader.events;
    for (let i = 0; i < events.length; i++) yield numbering.number(events[i]!);
    events.length = 0;
  };
  for await (const chunk of bytes) {
    try {
      for (let offset = 0; offset < chunk.byteLength; offset += PARSE_SLICE_BYTES) {
        reader.write(decoder.write(chunk.subarray(offset, offset + PARSE_SLICE_BYTES)));
      }
    } finally {
      // Findings completed before a fault are whole and valid: hand them over before the error.
      yield* drain();
    }
  }
  try {
    reader.write(decoder.end());
    reader.end();
  } finally {
    yield* drain();
  }
  yield { type: 'end', summary: numbering.summary(reader.truncatedFields) };
}
