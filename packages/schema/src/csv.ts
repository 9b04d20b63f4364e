import type { FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { FIELD_NAMES, fieldTypeOf, getFieldValue } from './catalogue.js';
import type { Projection } from './profiles.js';
import { cleanUntrustedText } from './untrusted-text.js';

/**
 * CSV of findings (RFC 4180: comma-separated, CRLF line ends, fields quoted when they hold a
 * comma, quote or line break, quotes doubled). A spreadsheet runs a cell starting with = + - @
 * (or a tab / carriage return before one) as a formula, and scanner text is attacker-controlled,
 * so such cells get a leading apostrophe. Text is cleaned like every other output.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** Columns of a projection: its fields, or for `full` every catalogued field (compliance as its dotted members). */
export function csvColumns(projection: Projection): string[] {
  if (projection.fields !== 'all') return [...projection.fields];
  return FIELD_NAMES.filter((name) => fieldTypeOf(name) !== 'object');
}

function cellText(value: FieldValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join('; ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export function csvCell(value: FieldValue | undefined): string {
  let text = cleanUntrustedText(cellText(value));
  // Numbers are written by us and never a formula; a negative one would otherwise gain the apostrophe.
  if (typeof value !== 'number' && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRecord(cells: readonly string[]): string {
  return `${cells.join(',')}\r\n`;
}

export function csvHeader(columns: readonly string[]): string {
  return csvRecord(columns.map((column) => csvCell(column)));
}

export function csvRow(finding: Finding, columns: readonly string[]): string {
  return csvRecord(columns.map((column) => csvCell(getFieldValue(finding, column))));
}
