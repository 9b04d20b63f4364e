import { AppError } from '@nessus-mcp/core/errors';
import type { FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { getFieldValue } from './catalogue.js';
import { parseIp } from '@nessus-mcp/core/ip';

export const SORT_KEYS = ['severity', 'cvss_score', 'host', 'plugin_id', 'port', 'risk', 'vpr_score', 'epss_score', 'cvss3_base_score'] as const;
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

/** Listed (a date) before unlisted. */
function listedFirst(a: FieldValue | undefined, b: FieldValue | undefined): number {
  return (typeof b === 'string' ? 1 : 0) - (typeof a === 'string' ? 1 : 0);
}

/** true, then false, then unknown. */
function trueFirst(a: FieldValue | undefined, b: FieldValue | undefined): number {
  const rank = (value: FieldValue | undefined): number => (value === true ? 0 : value === false ? 1 : 2);
  return rank(a) - rank(b);
}

/**
 * The `risk` order, most pressing first: listed in CISA's Known Exploited Vulnerabilities
 * catalogue; then exploited by malware; then a public exploit available; then EPSS (probability
 * of exploitation in the next 30 days); then Tenable's VPR; then CVSS v3 base score, or v2 where
 * v3 is missing; then severity. Unknown values sort after known ones at every step.
 */
export const RISK_FIELDS = [
  'cisa_known_exploited',
  'exploited_by_malware',
  'exploit_available',
  'epss_score',
  'vpr_score',
  'cvss3_base_score',
  'cvss_base_score',
  'severity',
] as const;

function compareRisk(a: readonly (FieldValue | undefined)[], b: readonly (FieldValue | undefined)[]): number {
  return (
    listedFirst(a[0], b[0]) ||
    trueFirst(a[1], b[1]) ||
    trueFirst(a[2], b[2]) ||
    descendingNullsLast(a[3], b[3]) ||
    descendingNullsLast(a[4], b[4]) ||
    descendingNullsLast(a[5] ?? a[6], b[5] ?? b[6]) ||
    descendingNullsLast(a[7], b[7])
  );
}

const highestFirst = (key: SortKey): SortSpec => ({ key, fields: [key], compare: (a, b) => descendingNullsLast(a[0], b[0]) });

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
  risk: { key: 'risk', fields: RISK_FIELDS, compare: compareRisk },
  vpr_score: highestFirst('vpr_score'),
  epss_score: highestFirst('epss_score'),
  cvss3_base_score: highestFirst('cvss3_base_score'),
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
