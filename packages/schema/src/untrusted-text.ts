/*
 * Scanner text is data from the scanned hosts: plugin output quotes banners, web page titles and
 * host names an attacker controls, and a model reading it may take hidden text for instructions.
 * Every MCP and REST output passes its strings through `cleanUntrustedText`, which removes what a
 * reader cannot see (or a terminal would interpret) and keeps everything visible as it was:
 *
 * - ANSI / VT escape sequences (CSI `ESC [ … final`, OSC `ESC ] … BEL|ESC \`, their 8-bit forms
 *   U+009B / U+009D, which XML 1.0 allows, and two-byte `ESC x`);
 * - C0 controls except tab, line feed and a carriage return before a line feed, DEL, C1 controls;
 * - zero-width and invisible formatting characters (U+200B–U+200F, U+2060–U+2064, U+FEFF,
 *   U+00AD, U+034F, U+061C, U+115F/U+1160, U+17B4/U+17B5, U+180E, U+3164, U+FFA0, U+FFF9–U+FFFB);
 * - bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069);
 * - Unicode tag characters (U+E0000–U+E007F) and variation selectors (U+FE00–U+FE0F,
 *   U+E0100–U+E01EF), which can carry a whole hidden ASCII message after a visible character;
 *   one text/emoji presentation selector (U+FE0E/U+FE0F) straight after an emoji stays, and so
 *   does a zero-width joiner between two emoji (👨‍👩‍👧): they change how the emoji looks, and one
 *   selector per emoji carries no message;
 * - a lone surrogate becomes U+FFFD (the replacement character), so the gap stays visible.
 */

// One alternation, tested once per string: almost every string is clean and pays only the test.
const UNSAFE = new RegExp(
  [
    String.raw`(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?`, // CSI, 7- or 8-bit (its final byte may be missing at the end of a cut text)
    String.raw`(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?`, // OSC, ended by BEL or ST
    String.raw`\x1b[@-_]?`, // any other escape, or a bare ESC
    String.raw`\r(?!\n)`, // a carriage return that does not end a line rewrites the line on a terminal
    String.raw`[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]`,
    String.raw`[\u00ad\u061c\u115f\u180e\u200b\u200c\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u3164\ufeff\uffa0\ufff9-\ufffb]`,
    // Joiners and combining marks on their own, outside a class: inside one they would read as
    // joined to the character before them.
    String.raw`\u034f|\u1160|\u17b4|\u17b5`,
    // A joiner is kept only inside an emoji sequence, a presentation selector only right after an emoji.
    String.raw`(?<!\p{Extended_Pictographic}\ufe0f?|\p{Emoji_Modifier})\u200d|\u200d(?!\p{Extended_Pictographic})`,
    String.raw`[\ufe00-\ufe0d]|(?<!\p{Extended_Pictographic})[\ufe0e\ufe0f]`,
    String.raw`[\u{e0100}-\u{e01ef}]`,
    String.raw`[\u{e0000}-\u{e007f}]`,
    String.raw`[\ud800-\udfff]`, // in a `u` regex only an unpaired surrogate matches this
  ].join('|'),
  'gu',
);
const LONE_SURROGATE = /^[\ud800-\udfff]$/u;
/**
 * Anything but printable ASCII, tab and line feed. A string without such a character has
 * nothing `UNSAFE` matches (every one of its branches starts with a control or non-ASCII
 * character, or a carriage return), and this class is several times cheaper to test than the
 * Unicode-aware alternation: most strings (ids, dates, plugin names) are plain ASCII.
 */
const NOT_PLAIN_ASCII = /[^\t\n\x20-\x7e]/;

function replacement(match: string): string {
  return LONE_SURROGATE.test(match) ? '\ufffd' : '';
}

/** The text without invisible, control and bidi characters or escape sequences; newlines and tabs stay. */
export function cleanUntrustedText(text: string): string {
  if (!hasUnsafeText(text)) return text;
  UNSAFE.lastIndex = 0;
  return text.replace(UNSAFE, replacement);
}

/** Whether `cleanUntrustedText` would change the text. */
export function hasUnsafeText(text: string): boolean {
  if (!NOT_PLAIN_ASCII.test(text)) return false;
  UNSAFE.lastIndex = 0;
  return UNSAFE.test(text);
}

/** The first character `cleanUntrustedText` would remove or replace, as `U+XXXX`; null for clean text. */
export function firstUnsafeCodePoint(text: string): string | null {
  UNSAFE.lastIndex = 0;
  const match = UNSAFE.exec(text);
  if (match === null) return null;
  return `U+${(match[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * A deep copy of a JSON-like value with every string (object keys included) cleaned. Objects
 * and arrays holding no unsafe text are returned as they are, so a clean value costs only the walk.
 */
export function cleanUntrustedValue<T>(value: T): T {
  return cleanAny(value) as T;
}

function cleanAny(value: unknown): unknown {
  if (typeof value === 'string') return cleanUntrustedText(value);
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    for (let i = 0; i < value.length; i += 1) {
      const element: unknown = value[i];
      const cleaned = cleanAny(element);
      if (cleaned !== element) {
        copy ??= value.slice();
        copy[i] = cleaned;
      }
    }
    return copy ?? value;
  }
  // Only plain objects are walked: a Buffer, Date or stream is left to its own serialiser.
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return value;
  let copy: Record<string, unknown> | null = null;
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const element = record[key];
    const cleaned = cleanAny(element);
    const cleanKey = cleanUntrustedText(key);
    if (cleaned !== element || cleanKey !== key) {
      if (!copy) {
        copy = {};
        // Rebuild in order so the keys keep their positions.
        for (const k of Object.keys(record)) {
          if (k === key) break;
          copy[k] = record[k];
        }
      }
      copy[cleanKey] = cleaned;
    } else if (copy) copy[key] = element;
  }
  return copy ?? value;
}
