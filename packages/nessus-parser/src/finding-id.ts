export interface FindingKey {
  host: string;
  /** Which ReportHost block of that name (0 for the first). */
  hostOccurrence: number;
  port: number;
  protocol: string;
  pluginId: number;
  complianceCheckId: string | null;
}

/** The part of the id that repeats when one host reports the same thing twice. */
export function findingKeyText(key: FindingKey): string {
  return [key.host, key.hostOccurrence, key.port, key.protocol, key.pluginId, key.complianceCheckId ?? ''].join('\u0000');
}

/**
 * Stable across runs of the same file: depends only on what the item says, plus the ordinal
 * of exact repeats within its ReportHost block, so ids never depend on the parsing mode.
 *
 * 64 bits from two independently seeded multiply-xorshift lanes over the UTF-16 code units.
 * Not a cryptographic hash (ids are not secrets), but a million findings collide with
 * probability below 1e-7, and it costs a tenth of `createHash('sha256')` per finding, which
 * profiled at 5% of all parsing time.
 */
export function findingId(keyText: string, repeat: number): string {
  const text = repeat > 0 ? `${keyText}\u0000#${repeat}` : keyText;
  let a = 0x9e3779b9 ^ text.length;
  let b = 0x85ebca6b ^ text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x9e3779b1);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b) ^ Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b) ^ Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 16;
  b ^= b >>> 16;
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}
