import { AppError } from '@nessus-mcp/core/errors';
import type { FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { FIELD_NAMES, fieldTypeOf, getFieldValue } from './catalogue.js';

export const PROFILE_NAMES = ['minimal', 'summary', 'brief', 'full'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];
export const DEFAULT_PROFILE: ProfileName = 'brief';

const MINIMAL = ['finding_id', 'host', 'port', 'protocol', 'plugin_id', 'severity', 'cve', 'cvss_score', 'exploit_available', 'cisa_known_exploited'];
const SUMMARY = [...MINIMAL, 'plugin_name', 'cvss3_base_score', 'synopsis'];
const BRIEF = [...SUMMARY, 'description', 'solution'];

/** Field lists of the named profiles; `full` is every field the finding has. Each starts with `finding_id`. */
export const PROFILE_FIELDS: Readonly<Record<Exclude<ProfileName, 'full'>, readonly string[]>> = Object.freeze({
  minimal: Object.freeze(MINIMAL),
  summary: Object.freeze(SUMMARY),
  brief: Object.freeze(BRIEF),
});

export interface Projection {
  /** A profile name, or `custom` when `custom_fields` chose the fields. */
  profile: ProfileName | 'custom';
  /** Output fields in order (always starting with `finding_id`), or `all` for the full profile. */
  fields: readonly string[] | 'all';
}

function isProfileName(value: string): value is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(value);
}

/**
 * Chooses the output fields. `custom_fields` replaces the profile; combining it with a profile
 * other than the default is ambiguous, so it is refused rather than silently resolved.
 */
export function resolveProjection(schemaProfile?: string | null, customFields?: readonly string[] | null): Projection {
  if (schemaProfile !== undefined && schemaProfile !== null && !isProfileName(schemaProfile)) {
    throw new AppError('invalid_argument', `schema_profile: unknown profile '${schemaProfile}'; valid profiles: ${PROFILE_NAMES.join(', ')}`, {
      details: { field: 'schema_profile', valid: [...PROFILE_NAMES] },
    });
  }
  if (customFields === undefined || customFields === null) {
    const profile = (schemaProfile ?? DEFAULT_PROFILE) as ProfileName;
    return { profile, fields: profile === 'full' ? 'all' : PROFILE_FIELDS[profile] };
  }
  if (schemaProfile !== undefined && schemaProfile !== null && schemaProfile !== DEFAULT_PROFILE) {
    throw new AppError('invalid_argument', `schema_profile '${schemaProfile}' and custom_fields cannot be combined: custom_fields replaces the profile`, {
      details: { field: 'custom_fields' },
    });
  }
  if (customFields.length === 0) {
    throw new AppError('invalid_argument', 'custom_fields: name at least one field', { details: { field: 'custom_fields', valid: [...FIELD_NAMES] } });
  }
  const unknown = customFields.filter((name) => fieldTypeOf(name) === undefined);
  if (unknown.length > 0) {
    throw new AppError(
      'invalid_argument',
      `custom_fields: unknown field(s) ${unknown.map((n) => `'${n}'`).join(', ')}; valid fields: ${FIELD_NAMES.join(', ')}`,
      {
        details: { field: 'custom_fields', unknown, valid: [...FIELD_NAMES] },
      },
    );
  }
  const requested = new Set(['finding_id', ...customFields]);
  // A whole object already carries its dotted members; listing both would write the member twice.
  const fields = [...requested].filter((name) => {
    const dot = name.indexOf('.');
    return dot < 0 || !requested.has(name.slice(0, dot));
  });
  return { profile: 'custom', fields };
}

/**
 * Keeps the projection's fields. Absent values become null so every line of a page has the
 * same keys; dotted paths are written nested (`{"compliance":{"result":...}}`), the shape
 * the `full` profile has, so a client reads both the same way.
 */
export function projectFinding(finding: Finding, projection: Projection): Record<string, FieldValue> {
  if (projection.fields === 'all') {
    const all: Record<string, FieldValue> = {};
    for (const [key, value] of Object.entries(finding)) if (value !== undefined) all[key] = value;
    return all;
  }
  const out: Record<string, FieldValue> = {};
  for (const field of projection.fields) {
    const dot = field.indexOf('.');
    if (dot < 0) {
      out[field] = finding[field] ?? null;
      continue;
    }
    const parentKey = field.slice(0, dot);
    const existing = out[parentKey];
    const parent: Record<string, FieldValue> =
      existing !== null && typeof existing === 'object' && !Array.isArray(existing) ? (existing as unknown as Record<string, FieldValue>) : {};
    parent[field.slice(dot + 1)] = getFieldValue(finding, field) ?? null;
    out[parentKey] = parent as unknown as FieldValue;
  }
  return out;
}
