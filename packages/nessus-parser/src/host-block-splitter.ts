/**
 * Cuts a byte stream at ReportHost element boundaries without parsing it, so each block can be
 * parsed on another thread. Only markup that may legally contain the text `</ReportHost>`
 * (comments, CDATA, processing instructions) is recognised and skipped; everything else is
 * left to the XML parsers downstream, which reject what is not well-formed.
 */
export interface SplitterSink {
  /** Bytes outside any ReportHost element. */
  skeleton(bytes: Uint8Array): void;
  blockStart(): void;
  /** Bytes of the current ReportHost element, from its `<` to its closing `>`. */
  blockData(bytes: Uint8Array): void;
  blockEnd(): void;
}

const OPEN = Buffer.from('<ReportHost');
const CLOSE = Buffer.from('</ReportHost');
const BANG = Buffer.from('<!');
const QUESTION = Buffer.from('<?');
const COMMENT_END = Buffer.from('-->');
const CDATA_END = Buffer.from(']]>');
const PI_END = Buffer.from('?>');
const COMMENT_START = Buffer.from('<!--');
const CDATA_START = Buffer.from('<![CDATA[');
/** Bytes kept back at a chunk end: the longest marker (`</ReportHost`) may straddle chunks. */
const LOOKAHEAD = CLOSE.length;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

function startsWithAt(buf: Buffer, at: number, prefix: Buffer): boolean {
  return buf.length - at >= prefix.length && buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

const enum Need {
  /** Decided; continue at the returned position. */
  Done,
  /** The buffer ends before we can decide. */
  MoreData,
}

export class HostBlockSplitter {
  private pending: Buffer = Buffer.alloc(0);
  private inBlock = false;
  private skipUntil: Buffer | null = null;

  constructor(private readonly sink: SplitterSink) {}

  get insideBlock(): boolean {
    return this.inBlock;
  }

  push(chunk: Uint8Array): void {
    const input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const buf = this.pending.length === 0 ? input : Buffer.concat([this.pending, input]);
    const keepFrom = this.scan(buf, false);
    // Copy the undecided tail: the caller may reuse its chunk.
    this.pending = Buffer.from(buf.subarray(keepFrom));
  }

  /** Flushes what is left; the caller then ends the skeleton or the open block. */
  finish(): void {
    const buf = this.pending;
    this.pending = Buffer.alloc(0);
    this.scan(buf, true);
  }

  private emit(buf: Buffer, from: number, to: number): void {
    if (to <= from) return;
    const bytes = buf.subarray(from, to);
    if (this.inBlock) this.sink.blockData(bytes);
    else this.sink.skeleton(bytes);
  }

  /** Returns where the undecided tail starts. */
  private scan(buf: Buffer, final: boolean): number {
    let pos = 0;
    // Positions of the next `<!` / `<?`, cached because they are rare and indexOf scans to the end.
    let nextBang = -2;
    let nextQuestion = -2;
    for (;;) {
      if (this.skipUntil !== null) {
        const end = buf.indexOf(this.skipUntil, pos);
        if (end < 0) {
          const safe = final ? buf.length : Math.max(pos, buf.length - (this.skipUntil.length - 1));
          this.emit(buf, pos, safe);
          return safe;
        }
        const after = end + this.skipUntil.length;
        this.emit(buf, pos, after);
        pos = after;
        this.skipUntil = null;
        continue;
      }
      const needle = this.inBlock ? CLOSE : OPEN;
      const tag = buf.indexOf(needle, pos);
      if (nextBang !== -1 && nextBang < pos) nextBang = buf.indexOf(BANG, pos);
      if (nextQuestion !== -1 && nextQuestion < pos) nextQuestion = buf.indexOf(QUESTION, pos);
      let at = -1;
      for (const candidate of [tag, nextBang, nextQuestion]) if (candidate >= 0 && (at < 0 || candidate < at)) at = candidate;
      if (at < 0) {
        const safe = final ? buf.length : Math.max(pos, buf.length - LOOKAHEAD);
        this.emit(buf, pos, safe);
        return safe;
      }
      if (!final && buf.length - at < LOOKAHEAD) {
        this.emit(buf, pos, at);
        return at;
      }
      if (at === nextBang || at === nextQuestion) {
        if (at === nextQuestion) this.skipUntil = PI_END;
        else if (startsWithAt(buf, at, COMMENT_START)) this.skipUntil = COMMENT_END;
        else if (startsWithAt(buf, at, CDATA_START)) this.skipUntil = CDATA_END;
        // Anything else (`<!DOCTYPE`, stray `<!`) is the parsers' business.
        const next = this.skipUntil === null ? at + 2 : at + (at === nextQuestion ? 2 : this.skipUntil === COMMENT_END ? 4 : 9);
        this.emit(buf, pos, next);
        pos = next;
        continue;
      }
      const result = this.inBlock ? this.closeTagEnd(buf, at) : this.openTagEnd(buf, at);
      if (result.need === Need.MoreData) {
        if (!final) {
          this.emit(buf, pos, at);
          return at;
        }
        // Truncated file: hand over what there is and let the parsers report it.
        this.emit(buf, pos, buf.length);
        return buf.length;
      }
      if (result.end < 0) {
        // `<ReportHostX` or `</ReportHostX`: not ours.
        this.emit(buf, pos, at + needle.length);
        pos = at + needle.length;
        continue;
      }
      if (this.inBlock) {
        this.emit(buf, pos, result.end);
        this.inBlock = false;
        this.sink.blockEnd();
      } else {
        this.emit(buf, pos, at);
        this.inBlock = true;
        this.sink.blockStart();
        this.emit(buf, at, result.end);
        if (result.selfClosing) {
          this.inBlock = false;
          this.sink.blockEnd();
        }
      }
      pos = result.end;
    }
  }

  /** `<ReportHost name="...">`: attribute values may contain `>`, so quotes are honoured. */
  private openTagEnd(buf: Buffer, at: number): { need: Need; end: number; selfClosing: boolean } {
    let i = at + OPEN.length;
    const first = buf[i];
    if (first === undefined) return { need: Need.MoreData, end: -1, selfClosing: false };
    if (!isSpace(first) && first !== GT && first !== SLASH) return { need: Need.Done, end: -1, selfClosing: false };
    let quote = 0;
    for (; i < buf.length; i++) {
      const byte = buf[i]!;
      if (quote !== 0) {
        if (byte === quote) quote = 0;
      } else if (byte === DQUOTE || byte === SQUOTE) quote = byte;
      else if (byte === GT) return { need: Need.Done, end: i + 1, selfClosing: buf[i - 1] === SLASH };
      else if (byte === LT) return { need: Need.Done, end: i, selfClosing: false };
    }
    return { need: Need.MoreData, end: -1, selfClosing: false };
  }

  /** `</ReportHost>`, with optional white space before the `>`. */
  private closeTagEnd(buf: Buffer, at: number): { need: Need; end: number; selfClosing: boolean } {
    for (let i = at + CLOSE.length; i < buf.length; i++) {
      const byte = buf[i];
      if (byte === GT) return { need: Need.Done, end: i + 1, selfClosing: false };
      if (!isSpace(byte)) return { need: Need.Done, end: -1, selfClosing: false };
    }
    return { need: Need.MoreData, end: -1, selfClosing: false };
  }
}
