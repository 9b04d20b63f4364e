import { createHash } from 'node:crypto';

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
 */
export function findingId(keyText: string, repeat: number): string {
  const hash = createHash('sha256');
  hash.update(keyText);
  if (repeat > 0) hash.update(`\u0000#${repeat}`);
  return hash.digest('hex').slice(0, 24);
}
