import type { SaxesParser } from 'saxes';

/**
 * Faster inner loops for saxes 6, installed on one parser instance.
 *
 * Profiling a 60 MB export showed a third of all parsing time in saxes reading text one
 * character at a time through `getCode()` (plugin output and descriptions are most of a
 * .nessus file), and another 8% reading tag names the same way. Both loops here first skip the
 * run of characters that cannot matter (no markup, no line break, no character XML forbids)
 * with one sticky regular expression, which V8 runs as native code, and then hand the one
 * interesting character to saxes's own `getCode()`, so line counting, CR/LF normalisation,
 * surrogate checks and error reporting stay saxes's. Output is identical to plain saxes (the
 * test suite compares event streams on every fixture, chunked at random).
 *
 * The loops only apply to XML 1.0 input (what Nessus writes); an XML 1.1 document, or a saxes
 * version without these internals, keeps the original code.
 */

interface SaxesInternals {
  chunk: string;
  i: number;
  prevI: number;
  column: number;
  text: string;
  name: string;
  state: number;
  entityReturnState: number;
  forbiddenState: number;
  textHandler: ((text: string) => void) | undefined;
  getCode: () => number;
  getCode10: () => number;
  fail: (message: string) => unknown;
  handleTextInRoot: () => void;
  captureNameChars: () => number;
}

// saxes's private constants (saxes.js, version 6).
const EOC = -1;
const NL_LIKE = -2;
const S_TEXT = 13;
const S_ENTITY = 14;
const S_OPEN_WAKA = 15;
const FORBIDDEN_START = 0;
const FORBIDDEN_BRACKET = 1;
const FORBIDDEN_BRACKET_BRACKET = 2;
const LESS = 0x3c;
const AMP = 0x26;
const GREATER = 0x3e;
const CLOSE_BRACKET = 0x5d;

/** Text characters with no effect on parser state: everything but markup, line breaks, `]]>` parts and characters XML 1.0 forbids or pairs. */
// eslint-disable-next-line no-control-regex -- the control characters XML forbids must stop the fast path so saxes reports them
const PLAIN_TEXT = /[^<&\]>\r\n\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]+/y;
/** ASCII name characters (any name character after the first). */
const ASCII_NAME = /[A-Za-z0-9_:.-]+/y;

export function installSaxesFastPaths(parser: SaxesParser): boolean {
  const p = parser as unknown as SaxesInternals;
  const originalText = p.handleTextInRoot;
  const originalName = p.captureNameChars;
  if (typeof originalText !== 'function' || typeof originalName !== 'function' || typeof p.getCode10 !== 'function') return false;

  p.handleTextInRoot = function handleTextInRoot(this: SaxesInternals): void {
    if (this.getCode !== this.getCode10) {
      originalText.call(this);
      return;
    }
    const chunk = this.chunk;
    const handler = this.textHandler;
    let start = this.i;
    let forbiddenState = this.forbiddenState;
    for (;;) {
      PLAIN_TEXT.lastIndex = this.i;
      if (PLAIN_TEXT.test(chunk)) {
        const end = PLAIN_TEXT.lastIndex;
        this.column += end - this.i;
        this.i = end;
        forbiddenState = FORBIDDEN_START;
      }
      switch (this.getCode()) {
        case LESS: {
          this.state = S_OPEN_WAKA;
          if (handler !== undefined) {
            const text = this.text;
            const slice = chunk.slice(start, this.prevI);
            if (text.length !== 0) {
              handler(text + slice);
              this.text = '';
            } else if (slice.length !== 0) {
              handler(slice);
            }
          }
          this.forbiddenState = FORBIDDEN_START;
          return;
        }
        case AMP:
          this.state = S_ENTITY;
          this.entityReturnState = S_TEXT;
          if (handler !== undefined) this.text += chunk.slice(start, this.prevI);
          this.forbiddenState = FORBIDDEN_START;
          return;
        case CLOSE_BRACKET:
          forbiddenState = forbiddenState === FORBIDDEN_START ? FORBIDDEN_BRACKET : FORBIDDEN_BRACKET_BRACKET;
          break;
        case GREATER:
          if (forbiddenState === FORBIDDEN_BRACKET_BRACKET) this.fail('the string "]]>" is disallowed in char data.');
          forbiddenState = FORBIDDEN_START;
          break;
        case NL_LIKE:
          if (handler !== undefined) this.text += `${chunk.slice(start, this.prevI)}\n`;
          start = this.i;
          forbiddenState = FORBIDDEN_START;
          break;
        case EOC:
          if (handler !== undefined) this.text += chunk.slice(start);
          this.forbiddenState = forbiddenState;
          return;
        default:
          forbiddenState = FORBIDDEN_START;
      }
    }
  };

  p.captureNameChars = function captureNameChars(this: SaxesInternals): number {
    if (this.getCode === this.getCode10) {
      ASCII_NAME.lastIndex = this.i;
      if (ASCII_NAME.test(this.chunk)) {
        const end = ASCII_NAME.lastIndex;
        this.name += this.chunk.slice(this.i, end);
        this.column += end - this.i;
        this.i = end;
      }
    }
    return originalName.call(this);
  };
  return true;
}
