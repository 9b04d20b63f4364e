import { z } from 'zod';
import { FILTERABLE_FIELDS } from './catalogue.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MIN_PAGE_SIZE } from './pagination.js';
import { DEFAULT_PROFILE, PROFILE_FIELDS, PROFILE_NAMES } from './profiles.js';
import { SORT_KEYS } from './sort.js';

/*
 * Shapes of the `get_scan_results` parameters, shared by the MCP tool and the REST route.
 * They check shape only; `resolveResultQuery` checks meaning (field names, filter types) and
 * is the one place that throws `invalid_argument` for it, whichever transport called.
 * The descriptions are read by LLM agents choosing arguments: they state the exact grammar.
 */

export const pageParam = z
  .number()
  .int()
  .min(0)
  .describe('Page number, 1-based (default 1). 0 returns every matching finding in one response, without a pagination line.');

export const pageSizeParam = z
  .number()
  .int()
  .describe(`Findings per page (default ${DEFAULT_PAGE_SIZE}); values outside ${MIN_PAGE_SIZE}–${MAX_PAGE_SIZE} are clamped into that range.`);

export const schemaProfileParam = z
  .enum(PROFILE_NAMES)
  .describe(
    `Which fields each finding carries (default ${DEFAULT_PROFILE}). minimal: ${PROFILE_FIELDS.minimal.join(', ')}. ` +
      `summary: minimal + plugin_name, cvss3_base_score, synopsis. brief: summary + description, solution. full: every field. ` +
      'Use custom_fields instead to pick fields yourself.',
  );

export const customFieldsParam = z
  .array(z.string().min(1))
  .min(1)
  .describe(
    'Exact list of fields to return instead of a profile (finding_id is always included). Dotted paths reach compliance details, ' +
      'e.g. ["host", "plugin_name", "compliance.result"]. Cannot be combined with a schema_profile other than the default.',
  );

const filterTerm = z.union([z.string(), z.number(), z.boolean()]);

export const filtersParam = z
  .union([z.record(z.string(), z.union([filterTerm, z.array(filterTerm).min(1)])), z.string()])
  .describe(
    'Object of field → value; all keys must match (AND), a list of values matches any of them (OR). ' +
      'Numbers: 4 (equals), ">=3", "<7.5", "!=0", "=4" or a range "7..9" (inclusive); severity is 0 info, 1 low, 2 medium, 3 high, 4 critical. ' +
      'Text: case-insensitive substring. host: exact host name, IP or FQDN, or a CIDR such as "10.0.0.0/24" or "2001:db8::/64". ' +
      'Lists such as cve, cwe, xref match when any element contains the value. Booleans: true/false. ' +
      'Dotted paths reach compliance details: {"compliance.result": "FAILED"}. ' +
      'Example: {"severity": ">=3", "host": "10.0.0.0/24", "cve": "CVE-2021-44228"}. ' +
      `Filterable fields: ${FILTERABLE_FIELDS.join(', ')}. May also be given as a JSON string.`,
  );

export const sortParam = z
  .enum(SORT_KEYS)
  .describe(
    'Order of findings (default: document order). severity: most severe first, then highest cvss_score. cvss_score: highest first. ' +
      'host: by address, then name. plugin_id, port: ascending. Ties keep document order.',
  );

/** The parameters as a raw shape, for MCP `registerTool` input schemas. */
export const resultQueryShape = {
  page: pageParam.optional(),
  page_size: pageSizeParam.optional(),
  schema_profile: schemaProfileParam.optional(),
  custom_fields: customFieldsParam.optional(),
  filters: filtersParam.optional(),
  sort: sortParam.optional(),
};

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
export const decimalQueryNumber = z.string().regex(/^\d{1,15}$/, 'must be a whole number in decimal digits').transform(Number);

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
  filters: z.string().describe(filtersParam.description ?? '').optional(),
  sort: sortParam.optional(),
});
