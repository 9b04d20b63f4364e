import { AppError } from '@nessus-mcp/core/errors';
import type { FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { getFieldValue } from './catalogue.js';
import { parseIp } from '@nessus-mcp/core/ip';

export const SORT_KEYS = ['severity', 'cvss_score', 'host', 'plugin_id', 'port'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

/**
 * How one sort key orders findings. `fields` are the values `compare` reads, in order; ties
 * always fall back to document order (the caller compares `index`), so paging is stable.
 */
export interface SortSpec {
  readonly key: SortKey;
  readonly fields: readonly string[];
  compare(a: readonly (FieldValue | undefined)[], b: readonly (FieldValue | undefined)[]): number;
}

function asNumber(value: FieldValue | undefined): number | null {
  return typeof value === 'number' && !Number.isNaN(value) ? value : null;
}

/** Descending, with unknown (null) scores after every known one. */
function descendingNullsLast(a: FieldValue | undefined, b: FieldValue | undefined): number {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return y - x;
}

function ascendingNullsLast(a: FieldValue | undefined, b: FieldValue | undefined): number {
  const x = asNumber(a);
  const y = asNumber(b);
  if (x === y) return 0;
  if (x === null) return 1;
  if (y === null) return -1;
  return x - y;
}

/** Addresses in numeric order (IPv4 before IPv6), then names alphabetically. */
export function compareHosts(a: string, b: string): number {
  if (a === b) return 0;
  const x = parseIp(a);
  const y = parseIp(b);
  if (x && y) {
    if (x.version !== y.version) return x.version - y.version;
    return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
  }
  if (x) return -1;
  if (y) return 1;
  const lowerA = a.toLowerCase();
  const lowerB = b.toLowerCase();
  return lowerA < lowerB ? -1 : lowerA > lowerB ? 1 : a < b ? -1 : 1;
}

const SPECS: Record<SortKey, SortSpec> = {
  // Most urgent first: critical before info, and within a severity the higher CVSS first.
  severity: {
    key: 'severity',
    fields: ['severity', 'cvss_score'],
    compare: (a, b) => descendingNullsLast(a[0], b[0]) || descendingNullsLast(a[1], b[1]),
  },
  cvss_score: { key: 'cvss_score', fields: ['cvss_score'], compare: (a, b) => descendingNullsLast(a[0], b[0]) },
  host: {
    key: 'host',
    fields: ['host'],
    compare: (a, b) => compareHosts(typeof a[0] === 'string' ? a[0] : '', typeof b[0] === 'string' ? b[0] : ''),
  },
  plugin_id: { key: 'plugin_id', fields: ['plugin_id'], compare: (a, b) => ascendingNullsLast(a[0], b[0]) },
  port: { key: 'port', fields: ['port'], compare: (a, b) => ascendingNullsLast(a[0], b[0]) },
};

/** Validates `sort`; undefined/null keeps document order. */
export function resolveSort(value: unknown): SortSpec | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string' && Object.hasOwn(SPECS, value)) return SPECS[value as SortKey];
  throw new AppError('invalid_argument', `sort: unknown sort key ${JSON.stringify(value)}; valid keys: ${SORT_KEYS.join(', ')}`, {
    details: { field: 'sort', valid: [...SORT_KEYS] },
  });
}

/** Sorts a copy (stable: equal keys keep document order). */
export function sortFindings(findings: readonly Finding[], spec: SortSpec | null): Finding[] {
  if (!spec) return [...findings];
  const keyed = findings.map((finding) => ({ finding, values: spec.fields.map((field) => getFieldValue(finding, field)) }));
  keyed.sort((a, b) => spec.compare(a.values, b.values) || a.finding.index - b.finding.index);
  return keyed.map((entry) => entry.finding);
}
