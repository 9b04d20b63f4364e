import { FIELD_TYPES } from '@nessus-mcp/nessus-parser';
import type { FieldType, FieldValue, Finding } from '@nessus-mcp/nessus-parser';

/**
 * The field catalogue every query parameter is checked against: the parser's `FIELD_TYPES`
 * (including dotted `compliance.*` paths). Profiles, custom fields, filters and sort only
 * accept names listed here, so a typo is an error rather than an empty result.
 */
export const FIELD_NAMES: readonly string[] = Object.freeze(Object.keys(FIELD_TYPES));

export function fieldTypeOf(name: string): FieldType | undefined {
  return Object.hasOwn(FIELD_TYPES, name) ? FIELD_TYPES[name] : undefined;
}

/** Fields a filter can name: every catalogued field except whole objects (filter on their dotted paths). */
export const FILTERABLE_FIELDS: readonly string[] = Object.freeze(FIELD_NAMES.filter((name) => FIELD_TYPES[name] !== 'object'));

/** Reads a field, following one dotted step into a nested object (`compliance.result`). */
export function getFieldValue(finding: Finding, path: string): FieldValue | undefined {
  const direct = finding[path];
  if (direct !== undefined || !path.includes('.')) return direct;
  const dot = path.indexOf('.');
  const parent = finding[path.slice(0, dot)];
  if (parent === null || parent === undefined || typeof parent !== 'object' || Array.isArray(parent)) return undefined;
  const value: unknown = (parent as unknown as Record<string, unknown>)[path.slice(dot + 1)];
  return value === undefined ? undefined : (value as FieldValue);
}
