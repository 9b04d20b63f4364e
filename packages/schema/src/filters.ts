import { AppError } from '@nessus-mcp/core/errors';
import type { FieldType, FieldValue, Finding } from '@nessus-mcp/nessus-parser';
import { FILTERABLE_FIELDS, fieldTypeOf, getFieldValue } from './catalogue.js';
import { formatCidr, formatIp, intervalContains, parseCidr, parseIp } from '@nessus-mcp/core/ip';
import type { IpAddress } from '@nessus-mcp/core/ip';

/** One filter value as reported back in `filters_applied`. */
export type NormalisedFilterTerm = string | number | boolean;
export type NormalisedFilterValue = NormalisedFilterTerm | NormalisedFilterTerm[];
export type NormalisedFilters = Record<string, NormalisedFilterValue>;

/**
 * A compiled filter on one key. `sources` names the fields it reads (`host` reads the name,
 * the IP and the FQDN); `matches` gets their values in that order. Stores that keep some
 * fields in compact columns evaluate a condition on those columns when they hold every source.
 */
export interface FilterCondition {
  readonly field: string;
  readonly sources: readonly string[];
  readonly normalised: NormalisedFilterValue;
  matches(values: readonly (FieldValue | undefined)[]): boolean;
}

export interface CompiledFilters {
  readonly conditions: readonly FilterCondition[];
  /** The filters as understood, for the schema line's `filters_applied`. */
  readonly normalised: NormalisedFilters;
}

export const HOST_FILTER_SOURCES: readonly string[] = Object.freeze(['host', 'host_ip', 'host_fqdn']);

type ValueTest = (value: FieldValue | undefined) => boolean;
interface Term {
  normalised: NormalisedFilterTerm;
  test: ValueTest;
}

const NUMBER = String.raw`[-+]?(?:\d+(?:\.\d*)?|\.\d+)`;
const NUMERIC_COMPARISON = new RegExp(String.raw`^(>=|<=|!=|==|=|>|<)?\s*(${NUMBER})$`);
const NUMERIC_RANGE = new RegExp(String.raw`^(${NUMBER})\s*\.\.\s*(${NUMBER})$`);
const DATE = String.raw`\d{4}[-/]\d{2}[-/]\d{2}`;
const DATE_COMPARISON = new RegExp(String.raw`^(>=|<=|!=|==|=|>|<)\s*(${DATE})$`);
const DATE_RANGE = new RegExp(String.raw`^(${DATE})\s*\.\.\s*(${DATE})$`);

type Operator = '>=' | '<=' | '!=' | '=' | '>' | '<';

function compare<T extends number | string>(op: Operator, left: T, right: T): boolean {
  switch (op) {
    case '>=':
      return left >= right;
    case '<=':
      return left <= right;
    case '>':
      return left > right;
    case '<':
      return left < right;
    case '!=':
      return left !== right;
    case '=':
      return left === right;
  }
}

function invalid(field: string, message: string, extra: Record<string, unknown> = {}): AppError {
  return new AppError('invalid_argument', `filters.${field}: ${message}`, { details: { field: `filters.${field}`, ...extra } });
}

function describeValue(raw: unknown): string {
  return typeof raw === 'string' ? `'${raw}'` : (JSON.stringify(raw) ?? String(raw));
}

function numberTerm(field: string, raw: unknown): Term {
  const isNumber = (v: FieldValue | undefined): v is number => typeof v === 'number' && !Number.isNaN(v);
  if (typeof raw === 'number' && Number.isFinite(raw)) return { normalised: raw, test: (v) => isNumber(v) && v === raw };
  if (typeof raw === 'string') {
    const text = raw.trim();
    const range = NUMERIC_RANGE.exec(text);
    if (range) {
      const low = Number(range[1]);
      const high = Number(range[2]);
      if (low > high) throw invalid(field, `range ${describeValue(raw)} is empty: write the lower bound first`);
      return { normalised: `${low}..${high}`, test: (v) => isNumber(v) && v >= low && v <= high };
    }
    const comparison = NUMERIC_COMPARISON.exec(text);
    if (comparison) {
      const op: Operator = comparison[1] === undefined || comparison[1] === '==' ? '=' : (comparison[1] as Operator);
      const operand = Number(comparison[2]);
      // A value Nessus left empty is unknown, not "different from 0": null never matches.
      return { normalised: op === '=' ? operand : `${op}${operand}`, test: (v) => isNumber(v) && compare(op, v, operand) };
    }
  }
  throw invalid(field, `expected a number, a comparison such as '>=3', '<7.5', '!=0', '=4' or a range such as '7..9'; got ${describeValue(raw)}`);
}

function booleanTerm(field: string, raw: unknown): Term {
  const text = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (text === true || text === 'true') return { normalised: true, test: (v) => v === true };
  if (text === false || text === 'false') return { normalised: false, test: (v) => v === false };
  throw invalid(field, `expected true or false; got ${describeValue(raw)}`);
}

function needleOf(field: string, raw: unknown): string {
  const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : typeof raw === 'string' ? raw.trim() : null;
  if (text === null) throw invalid(field, `expected a string (matched case-insensitively as a substring); got ${describeValue(raw)}`);
  if (text === '') throw invalid(field, 'an empty string would match every finding; leave the filter out instead');
  return text;
}

function substringTest(needle: string): ValueTest {
  const lower = needle.toLowerCase();
  return (v) => {
    if (typeof v === 'string') return v.toLowerCase().includes(lower);
    if (Array.isArray(v)) return v.some((element) => element.toLowerCase().includes(lower));
    return false;
  };
}

/** Nessus writes dates as `YYYY/MM/DD`; compare on the `YYYY-MM-DD` prefix so either spelling works. */
function dateKey(value: string): string {
  return value.slice(0, 10).replaceAll('/', '-');
}

function dateTerm(field: string, raw: unknown): Term {
  // true/false asks whether the date is there at all: {"cisa_known_exploited": true} keeps KEV-listed findings.
  const presence = typeof raw === 'string' ? raw.trim().toLowerCase() : raw;
  if (presence === true || presence === 'true') return { normalised: true, test: (v) => typeof v === 'string' };
  if (presence === false || presence === 'false') return { normalised: false, test: (v) => typeof v !== 'string' };
  const text = needleOf(field, raw);
  const range = DATE_RANGE.exec(text);
  if (range) {
    const low = dateKey(range[1] ?? '');
    const high = dateKey(range[2] ?? '');
    if (low > high) throw invalid(field, `range ${describeValue(raw)} is empty: write the earlier date first`);
    return { normalised: `${low}..${high}`, test: (v) => typeof v === 'string' && dateKey(v) >= low && dateKey(v) <= high };
  }
  const comparison = DATE_COMPARISON.exec(text);
  if (comparison) {
    const op: Operator = comparison[1] === '==' ? '=' : (comparison[1] as Operator);
    const operand = dateKey(comparison[2] ?? '');
    return { normalised: `${op}${operand}`, test: (v) => typeof v === 'string' && compare(op, dateKey(v), operand) };
  }
  return { normalised: text, test: substringTest(text) };
}

function memoisedIp(): (text: string) => IpAddress | null {
  const cache = new Map<string, IpAddress | null>();
  return (text) => {
    let parsed = cache.get(text);
    if (parsed === undefined) {
      parsed = parseIp(text);
      if (cache.size < 65536) cache.set(text, parsed);
    }
    return parsed;
  };
}

function cidrTerm(field: string, text: string): Term | null {
  if (!text.includes('/')) return null;
  const block = parseCidr(text);
  if (!block) throw invalid(field, `${describeValue(text)} is not a valid CIDR (e.g. '10.0.0.0/24' or '2001:db8::/64')`);
  const ipOf = memoisedIp();
  return {
    normalised: formatCidr(block),
    test: (v) => {
      if (typeof v !== 'string') return false;
      const address = ipOf(v);
      return address !== null && intervalContains(block, address);
    },
  };
}

/**
 * `host` names a machine: exact host name, IP or FQDN (IPs compared as addresses, so IPv6
 * spellings agree), or every address inside a CIDR. Substring matching is deliberately not
 * used: `10.0.0.1` must not match `10.0.0.12`.
 */
function hostTerm(field: string, raw: unknown): { normalised: NormalisedFilterTerm; test: (values: readonly (FieldValue | undefined)[]) => boolean } {
  const text = needleOf(field, raw);
  const cidr = cidrTerm(field, text);
  if (cidr) return { normalised: cidr.normalised, test: (values) => values.slice(0, 2).some(cidr.test) };
  const address = parseIp(text);
  const ipOf = memoisedIp();
  if (address) {
    return {
      normalised: formatIp(address),
      test: (values) =>
        values.slice(0, 2).some((v) => {
          if (typeof v !== 'string') return false;
          const candidate = ipOf(v);
          return candidate !== null && candidate.version === address.version && candidate.value === address.value;
        }),
    };
  }
  const lower = text.toLowerCase();
  return { normalised: text, test: (values) => values.some((v) => typeof v === 'string' && v.toLowerCase() === lower) };
}

function termFor(field: string, type: FieldType, raw: unknown): Term {
  switch (type) {
    case 'number':
      return numberTerm(field, raw);
    case 'boolean':
      return booleanTerm(field, raw);
    case 'date':
      return dateTerm(field, raw);
    case 'string':
    case 'string[]': {
      const text = needleOf(field, raw);
      // An address range is the only useful meaning of a CIDR given for an IP field.
      if (field === 'host_ip') {
        const cidr = cidrTerm(field, text);
        if (cidr) return cidr;
      }
      return { normalised: text, test: substringTest(text) };
    }
    case 'object':
      throw invalid(field, 'filter on one of its dotted fields instead');
  }
}

function valuesOf(field: string, raw: unknown): unknown[] {
  if (!Array.isArray(raw)) return [raw];
  if (raw.length === 0) throw invalid(field, 'an empty list matches nothing; give at least one value');
  for (const element of raw) {
    if (element !== null && typeof element === 'object') throw invalid(field, `list elements must be single values; got ${describeValue(element)}`);
  }
  return raw;
}

function compileCondition(field: string, raw: unknown): FilterCondition {
  const type = fieldTypeOf(field);
  if (type === undefined || type === 'object') {
    throw new AppError('invalid_argument', `filters: unknown field '${field}'; valid fields: ${FILTERABLE_FIELDS.join(', ')}`, {
      details: { field: `filters.${field}`, valid: [...FILTERABLE_FIELDS] },
    });
  }
  const rawValues = valuesOf(field, raw);
  if (field === 'host') {
    const terms = rawValues.map((value) => hostTerm(field, value));
    return {
      field,
      sources: HOST_FILTER_SOURCES,
      normalised: terms.length === 1 ? (terms[0]?.normalised ?? '') : terms.map((t) => t.normalised),
      matches: (values) => terms.some((t) => t.test(values)),
    };
  }
  const terms = rawValues.map((value) => termFor(field, type, value));
  const first = terms[0];
  return {
    field,
    sources: [field],
    normalised: terms.length === 1 && first ? first.normalised : terms.map((t) => t.normalised),
    matches: first && terms.length === 1 ? (values) => first.test(values[0]) : (values) => terms.some((t) => t.test(values[0])),
  };
}

/** The filters as an object (MCP clients and query strings may send JSON text); throws `invalid_argument`. */
export function filterObject(input: unknown): Record<string, unknown> {
  let value = input;
  // MCP clients and query strings often deliver the object as JSON text.
  if (typeof value === 'string') {
    if (value.trim() === '') return {};
    try {
      value = JSON.parse(value);
    } catch {
      throw new AppError('invalid_argument', 'filters: not valid JSON; expected an object such as {"severity": ">=3"}', { details: { field: 'filters' } });
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new AppError('invalid_argument', 'filters: expected an object mapping field names to values, such as {"severity": ">=3"}', {
      details: { field: 'filters' },
    });
  }
  return value as Record<string, unknown>;
}

/** Validates and compiles `filters` (AND across keys, any-of within a list). Throws `invalid_argument`. */
export function compileFilters(input: unknown): CompiledFilters {
  if (input === undefined || input === null) return { conditions: [], normalised: {} };
  const conditions = Object.entries(filterObject(input)).map(([field, raw]) => compileCondition(field, raw));
  const normalised: NormalisedFilters = {};
  for (const condition of conditions) normalised[condition.field] = condition.normalised;
  return { conditions, normalised };
}

export function matchesCondition(finding: Finding, condition: FilterCondition): boolean {
  return condition.matches(condition.sources.map((source) => getFieldValue(finding, source)));
}

export function matchesFilters(finding: Finding, filters: CompiledFilters): boolean {
  return filters.conditions.every((condition) => matchesCondition(finding, condition));
}

export function applyFilters(findings: Iterable<Finding>, filters: CompiledFilters): Finding[] {
  const kept: Finding[] = [];
  for (const finding of findings) if (matchesFilters(finding, filters)) kept.push(finding);
  return kept;
}
