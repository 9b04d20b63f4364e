/**
 * Cuts a byte stream at ReportHost element boundaries without parsing it, so each block can be
 * parsed on another thread. Only markup that may legally contain the text `</ReportHost>` is
 * recognised and skipped: comments and CDATA everywhere, processing instructions outside hosts.
 * A processing instruction inside a host that contains `</ReportHost` (Nessus never writes
 * processing instructions there) cuts the block short, which its parser then reports as an
 * error: never silently wrong output. Searching for the two-byte `<?` inside hosts would cost
 * a third of the splitter's time, on the thread that feeds both workers.
 * Everything else is left to the XML parsers downstream, which reject what is not well-formed.
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
/** How much of a new chunk is joined to the undecided tail of the previous one. */
const JOIN_BYTES = 4096;

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;
const DQUOTE = 0x22;
const SQUOTE = 0x27;

function startsWithAt(buf: Buffer, at: number, prefix: Buffer): boolean {
  return buf.length - at >= prefix.length && buf.compare(prefix, 0, prefix.length, at, at + prefix.length) === 0;
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
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
    let input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const pending = this.pending;
    if (pending.length > 0) {
      // Resolve the few bytes left from the previous chunk against the start of this one,
      // rather than copying the whole chunk behind them.
      const join = Math.min(input.length, JOIN_BYTES);
      const head = Buffer.concat([pending, input.subarray(0, join)]);
      const keep = this.scan(head, false);
      if (join === input.length) {
        this.pending = Buffer.from(head.subarray(keep));
        return;
      }
      input = keep >= pending.length ? input.subarray(keep - pending.length) : Buffer.concat([head.subarray(keep), input.subarray(join)]);
    }
    const keepFrom = this.scan(input, false);
    // Copy the undecided tail: the caller may reuse its chunk.
    this.pending = Buffer.from(input.subarray(keepFrom));
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
    // Next position of each marker, cached: indexOf scans to the end when there is none.
    // One search for `<!` covers comments and CDATA (a 2-byte needle is also the fastest).
    let nextBang = -2;
    let nextPi = -2;
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
      if (this.inBlock) nextPi = -2;
      else if (nextPi !== -1 && nextPi < pos) nextPi = buf.indexOf(QUESTION, pos);
      let at = tag;
      let skip: Buffer | null = null;
      let skipFrom = 0;
      if (nextBang >= 0 && (at < 0 || nextBang < at)) {
        if (!final && buf.length - nextBang < CDATA_START.length) {
          // Too few bytes to tell a comment or CDATA from other `<!` markup: wait for more.
          this.emit(buf, pos, nextBang);
          return nextBang;
        }
        at = nextBang;
        if (startsWithAt(buf, at, COMMENT_START)) [skip, skipFrom] = [COMMENT_END, COMMENT_START.length];
        else if (startsWithAt(buf, at, CDATA_START)) [skip, skipFrom] = [CDATA_END, CDATA_START.length];
        else {
          // `<!DOCTYPE` and the like: the parsers' business.
          this.emit(buf, pos, at + BANG.length);
          pos = at + BANG.length;
          continue;
        }
      }
      if (nextPi >= 0 && (at < 0 || nextPi < at)) [at, skip, skipFrom] = [nextPi, PI_END, QUESTION.length];
      if (at < 0) {
        const safe = final ? buf.length : Math.max(pos, buf.length - LOOKAHEAD);
        this.emit(buf, pos, safe);
        return safe;
      }
      if (skip !== null) {
        this.skipUntil = skip;
        this.emit(buf, pos, at + skipFrom);
        pos = at + skipFrom;
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
