import { z } from 'zod';
import { MAX_CURSOR_LENGTH } from './cursor.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE } from './pagination.js';
import { DEFAULT_PROFILE, PROFILE_FIELDS, PROFILE_NAMES } from './profiles.js';
import { SORT_KEYS } from './sort.js';

/*
 * Shapes of the `get_scan_results` parameters, shared by the MCP tool and the REST route.
 * They check shape only; `resolveResultQuery` checks meaning (field names, filter types) and
 * is the one place that throws `invalid_argument` for it, whichever transport called.
 * The descriptions are read by LLM agents choosing arguments: they state the exact grammar.
 */

export const pageParam = z.number().int().min(0).max(1_000_000).describe('1-based (default 1); 0 = every match at once, no pagination line.');

export const pageSizeParam = z.number().int().min(1).max(10_000).describe(`Default ${DEFAULT_PAGE_SIZE}, clamped to ${MIN_PAGE_SIZE}–${MAX_PAGE_SIZE}.`);

export const schemaProfileParam = z
  .enum(PROFILE_NAMES)
  .describe(
    `Fields per finding (default ${DEFAULT_PROFILE}). minimal: ${PROFILE_FIELDS.minimal.join(', ')}; ` +
      'summary: + plugin_name, cvss3_base_score, synopsis; brief: + description, solution; full: all.',
  );

export const customFieldsParam = z
  .array(z.string().min(1))
  .min(1)
  .describe('Fields to return instead of a profile (finding_id always included), e.g. ["host", "plugin_name", "compliance.result"].');

const filterTerm = z.union([z.string(), z.number(), z.boolean()]);

export const filtersParam = z
  .union([z.record(z.string(), z.union([filterTerm, z.array(filterTerm).min(1)])), z.string()])
  .describe(
    'Field → value, keys ANDed, a list of values ORed; any field of the full profile, dotted compliance.* paths too. ' +
      'Numbers: 4, ">=3", "!=0" or a range "7..9"; severity 0 info … 4 critical. Text: case-insensitive substring; lists (cve, xref) match any element. ' +
      'host: exact name, IP or FQDN, or a CIDR. Dates: ">=2024-01-01", a range, or true/false for present/absent ({"cisa_known_exploited": true} = CISA KEV-listed). ' +
      'Example: {"severity": ">=3", "host": "10.0.0.0/24", "cve": "CVE-2021-44228"}. May also be given as a JSON string.',
  );

export const sortParam = z
  .enum(SORT_KEYS)
  .describe(
    'Order of findings (default: document order). severity: most severe, then highest cvss_score. host: by address. plugin_id, port: ascending. ' +
      'Scores: highest first. risk: CISA KEV-listed first, then exploited by malware, exploit available, EPSS, VPR, CVSS, severity.',
  );

export const cursorParam = z
  .string()
  .min(1)
  .max(MAX_CURSOR_LENGTH)
  .describe("The pagination line's cursor: fetches that next page of the same query. Use instead of page; the other parameters may be left out.");

/** The parameters as a raw shape, for MCP `registerTool` input schemas. */
export const resultQueryShape = {
  cursor: cursorParam.optional(),
  page: pageParam.optional(),
  page_size: pageSizeParam.optional(),
  schema_profile: schemaProfileParam.optional(),
  custom_fields: customFieldsParam.optional(),
  filters: filtersParam.optional(),
  sort: sortParam.optional(),
};

/**
 * The same parameters for a tool listed beside `get_scan_results` (compare_scans): the long
 * grammar descriptions point there instead of being repeated, since every tool's schema is in an
 * agent's context before the first call. Validation is identical.
 */
export function resultQueryShapeLike(tool: string): typeof resultQueryShape {
  const same = `As in ${tool}.`;
  return {
    ...resultQueryShape,
    schema_profile: schemaProfileParam.describe(same).optional(),
    custom_fields: customFieldsParam.describe(same).optional(),
    filters: filtersParam.describe(same).optional(),
    sort: sortParam.describe(same).optional(),
  };
}

export const resultQuerySchema = z.object(resultQueryShape);
export type ResultQueryParams = z.infer<typeof resultQuerySchema>;

/**
 * The same parameters from a URL query string: numbers arrive as text, `custom_fields` as a
 * comma-separated list (or repeated), `filters` as JSON text.
 */
/**
 * A whole number written in decimal digits. `z.coerce.number()` would read `0x10` as 16, `1e3` as
 * 1000 and '' as 0: a query string is text, and only plain digits mean what a person typed.
 */
export const decimalQueryNumber = z
  .string()
  .regex(/^\d{1,15}$/, 'must be a whole number in decimal digits')
  .transform(Number);

/** Unknown parameters are refused (a `?filter=` typo must not silently return everything). */
export const resultQueryStringSchema = z.strictObject({
  page: decimalQueryNumber.pipe(pageParam).optional(),
  page_size: decimalQueryNumber.pipe(pageSizeParam).optional(),
  schema_profile: schemaProfileParam.optional(),
  custom_fields: z
    .union([z.string(), z.array(z.string())])
    .transform((value) => (Array.isArray(value) ? value : value.split(',')).map((name) => name.trim()).filter((name) => name !== ''))
    .pipe(customFieldsParam)
    .optional(),
  filters: z
    .string()
    .describe(filtersParam.description ?? '')
    .optional(),
  sort: sortParam.optional(),
  cursor: cursorParam.optional(),
});
