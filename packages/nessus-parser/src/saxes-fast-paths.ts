import type { SaxesParser } from 'saxes';

/**
 * Faster inner loops for saxes 6, installed on one parser instance.
 *
 * Profiling a 60 MB export showed a third of all parsing time in saxes reading text one
 * character at a time through `getCode()` (plugin output and descriptions are most of a
 * .nessus file), and another 8% reading tag names the same way. Both loops here first skip the
 * run of characters that cannot matter (no markup, no carriage return, no character XML
 * forbids) in one tight loop over `charCodeAt` (counting line feeds as saxes does), and then
 * hand the one interesting character to saxes's own `getCode()`, so CR/LF normalisation,
 * surrogate checks and error reporting stay saxes's. A sticky regular expression did the same
 * skip but cost more in per-call overhead than it saved, as text runs between line feeds are short. Output is identical to plain saxes (the
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
  line: number;
  chunkPosition: number;
  positionAtNewLine: number;
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

const LF = 0x0a;

/** ASCII characters with no effect on text parsing: 1 for tab and printable characters but `<`, `&`, `]`, `>`. */
const PLAIN_ASCII = new Uint8Array(128);
for (let c = 0x20; c < 128; c++) PLAIN_ASCII[c] = 1;
PLAIN_ASCII[0x09] = 1;
for (const c of [LESS, AMP, CLOSE_BRACKET, GREATER]) PLAIN_ASCII[c] = 0;

/** ASCII name characters (any name character after the first): letters, digits, `_ : . -`. */
const NAME_ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) NAME_ASCII[c] = /[A-Za-z0-9_:.-]/.test(String.fromCharCode(c)) ? 1 : 0;

/**
 * Advances over characters that need no decision, counting line feeds exactly as saxes's
 * `getCode10` does. Stops before anything else: markup, `]`, `>`, CR, surrogates, U+FFFE/F.
 */
function skipPlainText(p: SaxesInternals): void {
  const chunk = p.chunk;
  const length = chunk.length;
  const from = p.i;
  let j = from;
  let lastLineFeed = -1;
  let lines = 0;
  while (j < length) {
    const c = chunk.charCodeAt(j);
    if (c < 128) {
      if (PLAIN_ASCII[c] === 0) {
        if (c !== LF) break;
        lines += 1;
        lastLineFeed = j;
      }
    } else if ((c >= 0xd800 && c <= 0xdfff) || c >= 0xfffe) {
      break;
    }
    j += 1;
  }
  if (j === from) return;
  if (lastLineFeed >= 0) {
    p.line += lines;
    p.column = j - lastLineFeed - 1;
    p.positionAtNewLine = p.chunkPosition + lastLineFeed + 1;
  } else {
    p.column += j - from;
  }
  p.i = j;
}

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
      const before = this.i;
      skipPlainText(this);
      if (this.i !== before) forbiddenState = FORBIDDEN_START;
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
      const chunk = this.chunk;
      const from = this.i;
      let j = from;
      for (let c = chunk.charCodeAt(j); c < 128 && NAME_ASCII[c] === 1; c = chunk.charCodeAt(j)) j += 1;
      if (j !== from) {
        this.name += chunk.slice(from, j);
        this.column += j - from;
        this.i = j;
      }
    }
    return originalName.call(this);
  };
  return true;
}
